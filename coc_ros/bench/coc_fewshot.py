"""Chain of Code few-shot examples (arXiv 2312.04474 style) for the BBH tasks of :mod:`coc_ros.bench.bbh_data`.

Each example is ``(question, program)``. The questions are BBH's own 3 exemplars per task (the ones in
lm-eval's ``bbh/cot_fewshot`` yaml, so ``direct``, ``cot`` and ``coc`` see the same shots), copied verbatim. The
program computes a variable ``answer`` in BBH target format (``"(B)"``, ``"Yes"``, ``"yes"``, ``"False"``,
``"11"``, ``"costume counterpart oven"``). As in the paper, algorithmic steps are real Python (loops, sorting,
``itertools``, ``datetime``, arithmetic), and steps that need world knowledge or language understanding call
helper functions that are deliberately left undefined (``is_fruit(x)``, ``parse_date("Christmas Eve of
1937")``, ``sport_of_athlete(name)``, ``agent_wanted_outcome(...)``): the CoC interpreter hands those calls to
the LM ("LMulator") at run time.

Public API::

    coc_examples(task: str | None) -> list[tuple[str, str]]   # None: GENERAL_EXAMPLES
    GENERAL_EXAMPLES: list[tuple[str, str]]                   # counting with is_fruit, a date, sarcasm
    GENERAL_TARGETS: tuple[str, ...]                          # their expected answers
    exemplar_targets(task) -> tuple[str, str, str]            # BBH's answers for the 3 exemplars
    render_examples(examples) -> str                          # "Q: ...\nA:\n```python\n...```" blocks
    SUPPORTED_TASKS
"""
from __future__ import annotations

_QUESTIONS: dict[str, tuple[str, str, str]] = {
    'object_counting': (
        (
            'I have a blackberry, a clarinet, a nectarine, a plum, a strawberry, a banana, a flute, an '
            'orange, and a violin. How many fruits do I have?'
        ),
        (
            'I have an orange, a raspberry, two peaches, a blackberry, an apple, a grape, a nectarine, and '
            'three plums. How many fruits do I have?'
        ),
        (
            'I have a lettuce head, a head of broccoli, an onion, a stalk of celery, two carrots, a garlic, '
            'and a yam. How many vegetables do I have?'
        ),
    ),
    'date_understanding': (
        (
            'Today is Christmas Eve of 1937. What is the date 10 days ago in MM/DD/YYYY?\n'
            'Options:\n'
            '(A) 12/14/2026\n'
            '(B) 12/14/1950\n'
            '(C) 12/14/2007\n'
            '(D) 12/14/1937\n'
            '(E) 07/14/1938\n'
            '(F) 12/14/1988'
        ),
        (
            'Tomorrow is 11/12/2019. What is the date one year ago from today in MM/DD/YYYY?\n'
            'Options:\n'
            '(A) 09/04/2018\n'
            '(B) 11/11/2018\n'
            '(C) 08/25/2018\n'
            '(D) 11/02/2018\n'
            '(E) 11/04/2018'
        ),
        (
            'Jane and John married on Jan 2, 1958. It is their 5-year anniversary today. What is the date '
            'tomorrow in MM/DD/YYYY?\n'
            'Options:\n'
            '(A) 01/11/1961\n'
            '(B) 01/03/1963\n'
            '(C) 01/18/1961\n'
            '(D) 10/14/1960\n'
            '(E) 01/03/1982\n'
            '(F) 12/03/1960'
        ),
    ),
    'logical_deduction': (
        (
            'The following paragraphs each describe a set of three objects arranged in a fixed order. The '
            'statements are logically consistent within each paragraph. In a golf tournament, there were '
            'three golfers: Amy, Eli, and Eve. Eve finished above Amy. Eli finished below Amy.\n'
            'Options:\n'
            '(A) Amy finished last\n'
            '(B) Eli finished last\n'
            '(C) Eve finished last'
        ),
        (
            'The following paragraphs each describe a set of three objects arranged in a fixed order. The '
            'statements are logically consistent within each paragraph. On a shelf, there are three books: a '
            'white book, a green book, and an orange book. The green book is to the right of the white book. '
            'The orange book is the rightmost.\n'
            'Options:\n'
            '(A) The white book is the leftmost\n'
            '(B) The green book is the leftmost\n'
            '(C) The orange book is the leftmost'
        ),
        (
            'The following paragraphs each describe a set of three objects arranged in a fixed order. The '
            'statements are logically consistent within each paragraph. On a shelf, there are three books: a '
            'red book, a gray book, and a white book. The white book is to the left of the gray book. The red'
            ' book is the second from the left.\n'
            'Options:\n'
            '(A) The red book is the leftmost\n'
            '(B) The gray book is the leftmost\n'
            '(C) The white book is the leftmost'
        ),
    ),
    'tracking_shuffled_objects': (
        (
            'Alice, Bob, and Claire are playing a game. At the start of the game, they are each holding a '
            'ball: Alice has a yellow ball, Bob has a blue ball, and Claire has a pink ball.\n'
            'As the game progresses, pairs of players trade balls. First, Claire and Alice swap balls. Then, '
            'Alice and Bob swap balls. Finally, Claire and Bob swap balls. At the end of the game, Bob has '
            'the\n'
            'Options:\n'
            '(A) yellow ball\n'
            '(B) blue ball\n'
            '(C) pink ball'
        ),
        (
            'Alice, Bob, and Claire are playing a game. At the start of the game, they are each holding a '
            'ball: Alice has a white ball, Bob has a purple ball, and Claire has a pink ball.\n'
            'As the game progresses, pairs of players trade balls. First, Bob and Alice swap balls. Then, Bob'
            ' and Claire swap balls. Finally, Bob and Alice swap balls. At the end of the game, Alice has the'
            '\n'
            'Options:\n'
            '(A) white ball\n'
            '(B) purple ball\n'
            '(C) pink ball'
        ),
        (
            'Alice, Bob, and Claire are dancers at a square dance. At the start of a song, they each have a '
            'partner: Alice is dancing with Lola, Bob is dancing with Rodrigo, and Claire is dancing with '
            'Patrick.\n'
            'Throughout the song, the dancers often trade partners. First, Alice and Bob switch partners. '
            'Then, Claire and Bob switch partners. Finally, Bob and Alice switch partners. At the end of the '
            'dance, Alice is dancing with\n'
            'Options:\n'
            '(A) Lola\n'
            '(B) Rodrigo\n'
            '(C) Patrick'
        ),
    ),
    'boolean_expressions': (
        (
            'not ( ( not not True ) ) is'
        ),
        (
            'True and False and not True and True is'
        ),
        (
            'not not ( not ( False ) ) is'
        ),
    ),
    'multistep_arithmetic_two': (
        (
            '((-5 + 9 * -4 - 0) * (4 + -7 + 0 * -5)) ='
        ),
        (
            '((-9 * 7 * 7 * -9) + (4 * -9 - 8 - -4)) ='
        ),
        (
            '((-3 + 5 * 8 * -4) - (9 - 8 * -7 + -9)) ='
        ),
    ),
    'navigate': (
        (
            'If you follow these instructions, do you return to the starting point? Turn left. Turn around. '
            'Turn left. Take 7 steps. Take 2 steps. Take 4 steps. Take 8 steps.\n'
            'Options:\n'
            '- Yes\n'
            '- No'
        ),
        (
            'If you follow these instructions, do you return to the starting point? Turn around. Take 1 step.'
            ' Take 6 steps. Turn around. Take 6 steps. Take 9 steps. Take 1 step.\n'
            'Options:\n'
            '- Yes\n'
            '- No'
        ),
        (
            'If you follow these instructions, do you return to the starting point? Always face forward. Take'
            ' 2 steps right. Take 9 steps left. Take 7 steps right.\n'
            'Options:\n'
            '- Yes\n'
            '- No'
        ),
    ),
    'sports_understanding': (
        (
            'Is the following sentence plausible? "Bam Adebayo scored a reverse layup in the Western '
            'Conference Finals."'
        ),
        (
            'Is the following sentence plausible? "Santi Cazorla scored a touchdown."'
        ),
        (
            'Is the following sentence plausible? "DeMar DeRozan was called for the goal tend."'
        ),
    ),
    'web_of_lies': (
        (
            'Question: Fidel tells the truth. Jerry says Fidel tells the truth. Vina says Jerry tells the '
            'truth. Millicent says Vina lies. Raymond says Millicent lies. Does Raymond tell the truth?'
        ),
        (
            'Question: Kristian lies. Millie says Kristian lies. Maybelle says Millie tells the truth. Fidel '
            'says Maybelle lies. Leda says Fidel lies. Does Leda tell the truth?'
        ),
        (
            'Question: Kristian tells the truth. Michaela says Kristian lies. Raymond says Michaela tells the'
            ' truth. Osvaldo says Raymond tells the truth. Jamey says Osvaldo tells the truth. Does Jamey '
            'tell the truth?'
        ),
    ),
    'word_sorting': (
        (
            'Sort the following words alphabetically: List: oven costume counterpart'
        ),
        (
            'Sort the following words alphabetically: List: hypochlorite ponderosa phone credulity'
        ),
        (
            'Sort the following words alphabetically: List: newt arson parthia seismography mugho aspect '
            'census'
        ),
    ),
    'causal_judgement': (
        (
            'How would a typical person answer each of the following questions about causation?\n'
            'Frank T., had an ongoing dispute with his neighbor over a stretch of land and one day decided to'
            ' shoot his neighbor in the body. Frank T. had no experience with guns, his hand slipped on the '
            'barrel of the gun, and the shot went wild. Nonetheless, the bullet bounced off a large boulder '
            "several feet away and hit the neighbor's body, causing significant injury. Did Frank T. "
            'intentionally shoot his neighbor in the body?\n'
            'Options:\n'
            '- Yes\n'
            '- No'
        ),
        (
            'How would a typical person answer each of the following questions about causation?\n'
            "Suzy and Billy are working on a project that is very important for our nation's security. The "
            'boss tells them both: "Be sure that you are here at exactly 9 am. It is absolutely essential '
            'that you arrive at that time." Both Billy and Suzy arrive at 9 am. As it happens, there was a '
            'motion detector installed in the room where they arrived. The motion detector was set up to be '
            'triggered if at least one person appeared in the room at the same time. So the motion detector '
            'went off. Did Billy cause the motion detector to go off?\n'
            'Options:\n'
            '- Yes\n'
            '- No'
        ),
        (
            'How would a typical person answer each of the following questions about causation?\n'
            "George and his sister Lena reunite at their parents' house for Thanksgiving. Whereas George just"
            ' got into medical school, Lena is unhappy in her marriage and recently lost her job. Over the '
            'course of the day, George and Lena get into a number of heated arguments. Later in the afternoon'
            ' they play a game of darts. They split the first two games, and the third game is close until '
            "the end. Who will win comes down to George's last shot. If he hits a high point region, he wins;"
            ' if he hits a low point region, Lena wins. George thinks of the difficult time Lena is having, '
            'and he really wants to let her win. He aims the dart at the low point region. He sets up his '
            'shot and the dart lands in the low point region. After his shot, Lena wins the game and is very '
            'happy. Did George hit the low point region intentionally?\n'
            'Options:\n'
            '- Yes\n'
            '- No'
        ),
    ),
    'penguins_in_a_table': (
        (
            'Here is a table where the first line is a header and each subsequent line is a penguin:  name, '
            'age, height (cm), weight (kg) Louis, 7, 50, 11 Bernard, 5, 80, 13 Vincent, 9, 60, 11 Gwen, 8, '
            '70, 15  For example: the age of Louis is 7, the weight of Gwen is 15 kg, the height of Bernard '
            'is 80 cm.  We now add a penguin to the table:\n'
            'James, 12, 90, 12\n'
            'How many penguins are less than 8 years old?\n'
            'Options:\n'
            '(A) 1\n'
            '(B) 2\n'
            '(C) 3\n'
            '(D) 4\n'
            '(E) 5'
        ),
        (
            'Here is a table where the first line is a header and each subsequent line is a penguin:  name, '
            'age, height (cm), weight (kg) Louis, 7, 50, 11 Bernard, 5, 80, 13 Vincent, 9, 60, 11 Gwen, 8, '
            '70, 15  For example: the age of Louis is 7, the weight of Gwen is 15 kg, the height of Bernard '
            'is 80 cm.  Which is the youngest penguin?\n'
            'Options:\n'
            '(A) Louis\n'
            '(B) Bernard\n'
            '(C) Vincent\n'
            '(D) Gwen\n'
            '(E) James'
        ),
        (
            'Here is a table where the first line is a header and each subsequent line is a penguin:  name, '
            'age, height (cm), weight (kg) Louis, 7, 50, 11 Bernard, 5, 80, 13 Vincent, 9, 60, 11 Gwen, 8, '
            '70, 15  For example: the age of Louis is 7, the weight of Gwen is 15 kg, the height of Bernard '
            'is 80 cm.  What is the name of the second penguin sorted by alphabetic order?\n'
            'Options:\n'
            '(A) Louis\n'
            '(B) Bernard\n'
            '(C) Vincent\n'
            '(D) Gwen\n'
            '(E) James'
        ),
    ),
}
_TARGETS = {
    'object_counting': ('6', '11', '8'),
    'date_understanding': ('(D)', '(B)', '(B)'),
    'logical_deduction': ('(B)', '(A)', '(C)'),
    'tracking_shuffled_objects': ('(A)', '(C)', '(C)'),
    'boolean_expressions': ('False', 'False', 'True'),
    'multistep_arithmetic_two': ('123', '3929', '-219'),
    'navigate': ('No', 'No', 'Yes'),
    'sports_understanding': ('yes', 'no', 'yes'),
    'web_of_lies': ('Yes', 'Yes', 'No'),
    'word_sorting': (
        'costume counterpart oven',
        'credulity hypochlorite phone ponderosa',
        'arson aspect census mugho newt parthia seismography',
    ),
    'causal_judgement': ('No', 'Yes', 'Yes'),
    'penguins_in_a_table': ('(B)', '(B)', '(D)'),
}

_PROGRAMS: dict[str, tuple[str, str, str]] = {
    "object_counting": (
        '''objects = {"blackberry": 1, "clarinet": 1, "nectarine": 1, "plum": 1, "strawberry": 1, "banana": 1,
           "flute": 1, "orange": 1, "violin": 1}
num_fruits = 0
for name, count in objects.items():
    if is_fruit(name):
        num_fruits += count
answer = str(num_fruits)
''',
        '''objects = {"orange": 1, "raspberry": 1, "peach": 2, "blackberry": 1, "apple": 1, "grape": 1, "nectarine": 1,
           "plum": 3}
num_fruits = 0
for name, count in objects.items():
    if is_fruit(name):
        num_fruits += count
answer = str(num_fruits)
''',
        '''objects = {"lettuce head": 1, "head of broccoli": 1, "onion": 1, "stalk of celery": 1, "carrot": 2,
           "garlic": 1, "yam": 1}
num_vegetables = 0
for name, count in objects.items():
    if is_vegetable(name):
        num_vegetables += count
answer = str(num_vegetables)
''',
    ),
    "date_understanding": (
        '''import datetime
today = datetime.datetime.strptime(parse_date("Christmas Eve of 1937"), "%m/%d/%Y")
date = today - datetime.timedelta(days=10)
options = {"(A)": "12/14/2026", "(B)": "12/14/1950", "(C)": "12/14/2007", "(D)": "12/14/1937",
           "(E)": "07/14/1938", "(F)": "12/14/1988"}
answer = None
for letter, text in options.items():
    if text == date.strftime("%m/%d/%Y"):
        answer = letter
''',
        '''import datetime
tomorrow = datetime.datetime.strptime("11/12/2019", "%m/%d/%Y")
today = tomorrow - datetime.timedelta(days=1)
date = today.replace(year=today.year - 1)
options = {"(A)": "09/04/2018", "(B)": "11/11/2018", "(C)": "08/25/2018", "(D)": "11/02/2018",
           "(E)": "11/04/2018"}
answer = None
for letter, text in options.items():
    if text == date.strftime("%m/%d/%Y"):
        answer = letter
''',
        '''import datetime
wedding = datetime.datetime.strptime(parse_date("Jan 2, 1958"), "%m/%d/%Y")
today = wedding.replace(year=wedding.year + 5)  # their 5-year anniversary
date = today + datetime.timedelta(days=1)
options = {"(A)": "01/11/1961", "(B)": "01/03/1963", "(C)": "01/18/1961", "(D)": "10/14/1960",
           "(E)": "01/03/1982", "(F)": "12/03/1960"}
answer = None
for letter, text in options.items():
    if text == date.strftime("%m/%d/%Y"):
        answer = letter
''',
    ),
    "logical_deduction": (
        '''import itertools
golfers = ["Amy", "Eli", "Eve"]
def consistent(order):  # order[0] finished first (above), order[-1] last (below)
    return (order.index("Eve") < order.index("Amy")      # Eve finished above Amy.
            and order.index("Eli") > order.index("Amy"))  # Eli finished below Amy.
order = [p for p in itertools.permutations(golfers) if consistent(p)][0]
options = {"(A)": order[-1] == "Amy", "(B)": order[-1] == "Eli", "(C)": order[-1] == "Eve"}
answer = [letter for letter, holds in options.items() if holds][0]
''',
        '''import itertools
books = ["white", "green", "orange"]
def consistent(order):  # order[0] is the leftmost
    return (order.index("green") > order.index("white")  # The green book is to the right of the white book.
            and order[-1] == "orange")                     # The orange book is the rightmost.
order = [p for p in itertools.permutations(books) if consistent(p)][0]
options = {"(A)": order[0] == "white", "(B)": order[0] == "green", "(C)": order[0] == "orange"}
answer = [letter for letter, holds in options.items() if holds][0]
''',
        '''import itertools
books = ["red", "gray", "white"]
def consistent(order):  # order[0] is the leftmost
    return (order.index("white") < order.index("gray")  # The white book is to the left of the gray book.
            and order[1] == "red")                        # The red book is the second from the left.
order = [p for p in itertools.permutations(books) if consistent(p)][0]
options = {"(A)": order[0] == "red", "(B)": order[0] == "gray", "(C)": order[0] == "white"}
answer = [letter for letter, holds in options.items() if holds][0]
''',
    ),
    "tracking_shuffled_objects": (
        '''holding = {"Alice": "yellow ball", "Bob": "blue ball", "Claire": "pink ball"}
swaps = [("Claire", "Alice"), ("Alice", "Bob"), ("Claire", "Bob")]
for a, b in swaps:
    holding[a], holding[b] = holding[b], holding[a]
options = {"(A)": "yellow ball", "(B)": "blue ball", "(C)": "pink ball"}
answer = [letter for letter, thing in options.items() if thing == holding["Bob"]][0]
''',
        '''holding = {"Alice": "white ball", "Bob": "purple ball", "Claire": "pink ball"}
swaps = [("Bob", "Alice"), ("Bob", "Claire"), ("Bob", "Alice")]
for a, b in swaps:
    holding[a], holding[b] = holding[b], holding[a]
options = {"(A)": "white ball", "(B)": "purple ball", "(C)": "pink ball"}
answer = [letter for letter, thing in options.items() if thing == holding["Alice"]][0]
''',
        '''partner = {"Alice": "Lola", "Bob": "Rodrigo", "Claire": "Patrick"}
swaps = [("Alice", "Bob"), ("Claire", "Bob"), ("Bob", "Alice")]
for a, b in swaps:
    partner[a], partner[b] = partner[b], partner[a]
options = {"(A)": "Lola", "(B)": "Rodrigo", "(C)": "Patrick"}
answer = [letter for letter, name in options.items() if name == partner["Alice"]][0]
''',
    ),
    "boolean_expressions": (
        '''result = not ( ( not not True ) )
answer = str(result)
''',
        '''result = True and False and not True and True
answer = str(result)
''',
        '''result = not not ( not ( False ) )
answer = str(result)
''',
    ),
    "multistep_arithmetic_two": (
        '''a = (-5 + 9 * -4 - 0)
b = (4 + -7 + 0 * -5)
answer = str(a * b)
''',
        '''a = (-9 * 7 * 7 * -9)
b = (4 * -9 - 8 - -4)
answer = str(a + b)
''',
        '''a = (-3 + 5 * 8 * -4)
b = (9 - 8 * -7 + -9)
answer = str(a - b)
''',
    ),
    "navigate": (
        '''x, y = 0, 0
dx, dy = 0, 1  # facing the positive y-axis
dx, dy = -dy, dx  # Turn left.
dx, dy = -dx, -dy  # Turn around.
dx, dy = -dy, dx  # Turn left.
for steps in [7, 2, 4, 8]:  # Take 7 steps. Take 2 steps. Take 4 steps. Take 8 steps.
    x, y = x + steps * dx, y + steps * dy
answer = "Yes" if (x, y) == (0, 0) else "No"
''',
        '''x, y = 0, 0
dx, dy = 0, 1  # facing the positive y-axis
dx, dy = -dx, -dy  # Turn around.
for steps in [1, 6]:  # Take 1 step. Take 6 steps.
    x, y = x + steps * dx, y + steps * dy
dx, dy = -dx, -dy  # Turn around.
for steps in [6, 9, 1]:  # Take 6 steps. Take 9 steps. Take 1 step.
    x, y = x + steps * dx, y + steps * dy
answer = "Yes" if (x, y) == (0, 0) else "No"
''',
        '''x, y = 0, 0  # Always face forward: every move is relative to the fixed starting direction.
direction = {"forward": (0, 1), "backward": (0, -1), "left": (-1, 0), "right": (1, 0)}
moves = [(2, "right"), (9, "left"), (7, "right")]
for steps, way in moves:
    dx, dy = direction[way]
    x, y = x + steps * dx, y + steps * dy
answer = "Yes" if (x, y) == (0, 0) else "No"
''',
    ),
    "sports_understanding": (
        '''athlete_sport = sport_of_athlete("Bam Adebayo")
action_sport = sport_of_action("scored a reverse layup in the Western Conference Finals")
answer = "yes" if athlete_sport == action_sport else "no"
''',
        '''athlete_sport = sport_of_athlete("Santi Cazorla")
action_sport = sport_of_action("scored a touchdown")
answer = "yes" if athlete_sport == action_sport else "no"
''',
        '''athlete_sport = sport_of_athlete("DeMar DeRozan")
action_sport = sport_of_action("was called for the goal tend")
answer = "yes" if athlete_sport == action_sport else "no"
''',
    ),
    "web_of_lies": (
        '''tells_truth = {}
tells_truth["Fidel"] = True                                 # Fidel tells the truth.
tells_truth["Jerry"] = tells_truth["Fidel"] == True         # Jerry says Fidel tells the truth.
tells_truth["Vina"] = tells_truth["Jerry"] == True          # Vina says Jerry tells the truth.
tells_truth["Millicent"] = tells_truth["Vina"] == False     # Millicent says Vina lies.
tells_truth["Raymond"] = tells_truth["Millicent"] == False  # Raymond says Millicent lies.
answer = "Yes" if tells_truth["Raymond"] else "No"
''',
        '''tells_truth = {}
tells_truth["Kristian"] = False                             # Kristian lies.
tells_truth["Millie"] = tells_truth["Kristian"] == False    # Millie says Kristian lies.
tells_truth["Maybelle"] = tells_truth["Millie"] == True     # Maybelle says Millie tells the truth.
tells_truth["Fidel"] = tells_truth["Maybelle"] == False     # Fidel says Maybelle lies.
tells_truth["Leda"] = tells_truth["Fidel"] == False         # Leda says Fidel lies.
answer = "Yes" if tells_truth["Leda"] else "No"
''',
        '''tells_truth = {}
tells_truth["Kristian"] = True                              # Kristian tells the truth.
tells_truth["Michaela"] = tells_truth["Kristian"] == False  # Michaela says Kristian lies.
tells_truth["Raymond"] = tells_truth["Michaela"] == True    # Raymond says Michaela tells the truth.
tells_truth["Osvaldo"] = tells_truth["Raymond"] == True     # Osvaldo says Raymond tells the truth.
tells_truth["Jamey"] = tells_truth["Osvaldo"] == True       # Jamey says Osvaldo tells the truth.
answer = "Yes" if tells_truth["Jamey"] else "No"
''',
    ),
    "word_sorting": (
        '''words = "oven costume counterpart".split()
answer = " ".join(sorted(words))
''',
        '''words = "hypochlorite ponderosa phone credulity".split()
answer = " ".join(sorted(words))
''',
        '''words = "newt arson parthia seismography mugho aspect census".split()
answer = " ".join(sorted(words))
''',
    ),
    "causal_judgement": (
        '''facts = ["Frank T. decided to shoot his neighbor in the body",
         "Frank T. had no experience with guns, his hand slipped on the barrel and the shot went wild",
         "the bullet bounced off a boulder and hit the neighbor's body"]
# An act is intentional if the agent wanted the outcome and it came about the way the agent planned it.
wanted = agent_wanted_outcome("Frank T.", "shoot his neighbor in the body", facts)
as_planned = outcome_came_about_as_planned("Frank T.", "shoot his neighbor in the body", facts)
answer = "Yes" if wanted and as_planned else "No"
''',
        '''facts = ["the boss told Billy and Suzy to both arrive at exactly 9 am",
         "the motion detector was set up to be triggered if at least one person appeared in the room at the same time",
         "Billy and Suzy both arrived at 9 am and the motion detector went off"]
caused = typical_person_says_caused("Billy arriving at 9 am", "the motion detector went off", facts)
answer = "Yes" if caused else "No"
''',
        '''facts = ["George wants to let his sister Lena win the game of darts",
         "he aims the dart at the low point region",
         "the dart lands in the low point region and Lena wins"]
# An act is intentional if the agent wanted the outcome and it came about the way the agent planned it.
wanted = agent_wanted_outcome("George", "hit the low point region", facts)
as_planned = outcome_came_about_as_planned("George", "hit the low point region", facts)
answer = "Yes" if wanted and as_planned else "No"
''',
    ),
    "penguins_in_a_table": (
        '''penguins = [
    {"name": "Louis", "age": 7, "height": 50, "weight": 11},
    {"name": "Bernard", "age": 5, "height": 80, "weight": 13},
    {"name": "Vincent", "age": 9, "height": 60, "weight": 11},
    {"name": "Gwen", "age": 8, "height": 70, "weight": 15},
]
penguins.append({"name": "James", "age": 12, "height": 90, "weight": 12})
count = len([p for p in penguins if p["age"] < 8])
options = {"(A)": 1, "(B)": 2, "(C)": 3, "(D)": 4, "(E)": 5}
answer = [letter for letter, value in options.items() if value == count][0]
''',
        '''penguins = [
    {"name": "Louis", "age": 7, "height": 50, "weight": 11},
    {"name": "Bernard", "age": 5, "height": 80, "weight": 13},
    {"name": "Vincent", "age": 9, "height": 60, "weight": 11},
    {"name": "Gwen", "age": 8, "height": 70, "weight": 15},
]
youngest = min(penguins, key=lambda p: p["age"])["name"]
options = {"(A)": "Louis", "(B)": "Bernard", "(C)": "Vincent", "(D)": "Gwen", "(E)": "James"}
answer = [letter for letter, value in options.items() if value == youngest][0]
''',
        '''penguins = [
    {"name": "Louis", "age": 7, "height": 50, "weight": 11},
    {"name": "Bernard", "age": 5, "height": 80, "weight": 13},
    {"name": "Vincent", "age": 9, "height": 60, "weight": 11},
    {"name": "Gwen", "age": 8, "height": 70, "weight": 15},
]
second = sorted(p["name"] for p in penguins)[1]
options = {"(A)": "Louis", "(B)": "Bernard", "(C)": "Vincent", "(D)": "Gwen", "(E)": "James"}
answer = [letter for letter, value in options.items() if value == second][0]
''',
    ),
}

GENERAL_EXAMPLES: list[tuple[str, str]] = [
    (
        "I have two apples, a carrot, a banana, three grapes, a hammer and a pear. How many fruits do I have?",
        '''objects = {"apple": 2, "carrot": 1, "banana": 1, "grape": 3, "hammer": 1, "pear": 1}
num_fruits = 0
for name, count in objects.items():
    if is_fruit(name):
        num_fruits += count
answer = num_fruits
''',
    ),
    (
        "My flight leaves the day after Independence Day 2024 and I fly back 9 days after I leave. "
        "On what date do I fly back, in MM/DD/YYYY?",
        '''import datetime
holiday = datetime.datetime.strptime(parse_date("Independence Day 2024"), "%m/%d/%Y")
departure = holiday + datetime.timedelta(days=1)
return_date = departure + datetime.timedelta(days=9)
answer = return_date.strftime("%m/%d/%Y")
''',
    ),
    (
        "Which statement is sarcastic?\nOptions:\n(A) I just love waiting two hours in line at the DMV.\n"
        "(B) I just love spending a sunny weekend hiking with friends.",
        '''options = {"(A)": "I just love waiting two hours in line at the DMV.",
           "(B)": "I just love spending a sunny weekend hiking with friends."}
answer = None
for letter, statement in options.items():
    if is_sarcastic(statement):
        answer = letter
''',
    ),
]
GENERAL_TARGETS: tuple[str, ...] = ("7", "07/14/2024", "(A)")

# BBH task name -> key of _QUESTIONS / _PROGRAMS (the 3/5/7-object subtasks share BBH's three-object shots)
_FAMILY = {
    **{k: k for k in _PROGRAMS},
    **{f"logical_deduction_{k}_objects": "logical_deduction" for k in ("three", "five", "seven")},
    **{f"tracking_shuffled_objects_{k}_objects": "tracking_shuffled_objects" for k in ("three", "five", "seven")},
}
_FAMILY.pop("logical_deduction")
_FAMILY.pop("tracking_shuffled_objects")
SUPPORTED_TASKS: tuple[str, ...] = tuple(sorted(_FAMILY))


def _family(task: str) -> str:
    try:
        return _FAMILY[task]
    except KeyError:
        raise KeyError(f"no Chain of Code examples for task {task!r}; have: {', '.join(SUPPORTED_TASKS)}") from None


def coc_examples(task: str | None) -> list[tuple[str, str]]:
    """The 3 (question, program) shots for a BBH task, or GENERAL_EXAMPLES for ``None``."""
    if task is None:
        return list(GENERAL_EXAMPLES)
    fam = _family(task)
    return list(zip(_QUESTIONS[fam], _PROGRAMS[fam]))


def exemplar_targets(task: str | None) -> tuple[str, ...]:
    """The expected answers of :func:`coc_examples`' programs (BBH's targets for the exemplars)."""
    if task is None:
        return GENERAL_TARGETS
    return _TARGETS[_family(task)]


def render_examples(examples: list[tuple[str, str]]) -> str:
    """A plain few-shot layout: ``Q: <question>\\nA:\\n```python\\n<program>```\\n\\n`` per example."""
    return "".join(f"Q: {q}\nA:\n```python\n{p.rstrip()}\n```\n\n" for q, p in examples)
