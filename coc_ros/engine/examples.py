"""General-purpose Chain of Code few-shot programs, used when a caller gives no task-specific examples."""
from __future__ import annotations

GENERAL_EXAMPLES: list[tuple[str, str]] = [
    (
        "I have a chair, two potatoes, a cauliflower, a lettuce head, two tables, a cabbage, two onions, and "
        "three fridges. How many vegetables do I have?",
        "objects = {'chair': 1, 'potato': 2, 'cauliflower': 1, 'lettuce head': 1, 'table': 2, 'cabbage': 1,\n"
        "           'onion': 2, 'fridge': 3}\n"
        "num_vegetables = 0\n"
        "for obj, count in objects.items():\n"
        "    if is_vegetable(obj):\n"
        "        num_vegetables += count\n"
        "answer = num_vegetables",
    ),
    (
        "Today is Christmas Eve of 1937. What is the date 10 days ago in MM/DD/YYYY?",
        "import datetime\n"
        "today = datetime.date(1937, 12, 24)\n"
        "date = today - datetime.timedelta(days=10)\n"
        "answer = date.strftime('%m/%d/%Y')",
    ),
    (
        "Which sentence is sarcastic? Options: (A) Yes, because having interests and actively researching them "
        "is a huge waste (B) Yes, because having interests and actively researching them is a huge deal",
        "options = {\n"
        "    '(A)': 'Yes, because having interests and actively researching them is a huge waste',\n"
        "    '(B)': 'Yes, because having interests and actively researching them is a huge deal',\n"
        "}\n"
        "answer = None\n"
        "for label, sentence in options.items():\n"
        "    if is_sarcastic(sentence):\n"
        "        answer = label",
    ),
]
