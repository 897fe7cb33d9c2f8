"""Matching the names a program (or a person) uses to the names that exist: one rule for the robot API's grounding
and the LMulator's name decisions, so both agree on what 'peanut butter' means."""
from __future__ import annotations

import re

_ARTICLES = {"the", "a", "an"}
# Colour words: a target with a colour no place has is a property that does not exist here, never guessed. Beyond
# the basic colours, the names scenes and people give containers ('the tan box', 'the teal crate', 'the navy bag').
COLOUR_WORDS = frozenset({"red", "orange", "yellow", "green", "blue", "purple", "violet", "pink", "brown",
                          "black", "white", "gray", "grey", "silver", "gold", "beige", "cyan", "magenta",
                          "tan", "teal", "cream", "navy", "turquoise", "maroon", "khaki", "olive", "ivory", "lilac",
                          "lavender", "crimson", "scarlet", "indigo", "burgundy", "terracotta", "charcoal"})
# Spellings of one colour, as the robot knows it: a 'grey cupboard' is the cupboard whose colour is 'gray'.
COLOUR_SPELLINGS = {"grey": "gray", "violet": "purple"}


# The same colours in the other languages instructions come in, as a person or a program copying the instruction
# may name a place: 'contenitore giallo', 'die gelbe Kiste', 'le bac vert', '黄色的柜子' (measured on the reserve split:
# the 1.5B writer passed find_container('giallo'), and the model, not told 'giallo' is a colour, chose the fridge).
# Words inflect (gelb/gelbe/gelben): a listed stem matches with the endings below; CJK colours match inside a word.
_FOREIGN_COLOURS = {
    "red": "rosso rossa rossi rosse rot rouge rojo roja vermelho vermelha rood rode röd rött röda",
    "yellow": "giallo gialla gialli gialle gelb jaune jaunes amarillo amarilla amarelo amarela geel gele gul gult gula",
    "green": "verde verdi grün gruen vert verte verts vertes groen groene grön grönt gröna",
    "blue": "blu azzurro azzurra blau bleu bleue bleus azul blauw blauwe blå blått",
    "orange": "arancione arancio naranja laranja oranje",
    "purple": "viola lila violett violette morado morada roxo roxa paars paarse",
    "pink": "rosa rose roze",
    "brown": "marrone braun marron brun brune marrón marrom castanho bruin bruine",
    "black": "nero nera neri schwarz noir noire negro negra preto preta zwart zwarte svart svarta",
    "white": "bianco bianca bianchi weiß weiss blanc blanche blanco blanca branco branca wit witte vit vitt vita",
    "gray": "grey grigio grigia grau gris grise cinza cinzento grijs grijze grå grått",
}
_INFLECTIONS = ("", "e", "en", "er", "em", "es", "s")
FOREIGN_COLOUR_WORDS = {form: colour for colour, words in _FOREIGN_COLOURS.items() for word in words.split()
                        for form in {word + end for end in _INFLECTIONS}}
_CJK_COLOURS = {"red": "红 紅 赤 빨간 빨강", "yellow": "黄 黃 노란 노랑", "green": "绿 綠 緑 초록 녹색",
                "blue": "蓝 藍 青 파란 파랑", "orange": "橙 橘 주황", "purple": "紫 보라", "pink": "粉 분홍",
                "brown": "棕 褐 茶色 갈색", "black": "黑 黒 검은 검정", "white": "白 하얀 흰색", "gray": "灰 회색"}


def colour_words(text: str) -> set[str]:
    """The English colours a text names in any of the languages above: 'contenitore giallo' -> {'yellow'},
    '蓝色的桶' -> {'blue'}, 'the grey box' -> {'gray'}, 'violet' -> {'purple'}. Latin-script words must match
    whole; a Chinese/Japanese/Korean colour counts inside a word (these scripts do not separate words by spaces)."""
    found = set()
    for token in re.findall(r"[^\W\d_]+", text.lower()):
        if token in COLOUR_WORDS:
            found.add(COLOUR_SPELLINGS.get(token, token))
        elif token in FOREIGN_COLOUR_WORDS:
            found.add(FOREIGN_COLOUR_WORDS[token])
    for colour, pieces in _CJK_COLOURS.items():
        if any(piece in text for piece in pieces.split()):
            found.add(colour)
    return found


def name_tokens(name: str) -> list[str]:
    """Lower-case words of a name, without articles: 'The Green-Bin' -> ['green', 'bin']."""
    return [t for t in re.split(r"[\s_\-]+", name.strip().lower()) if t and t not in _ARTICLES]


def ground_name(given: str, candidates: list[str]) -> str | None:
    """The one candidate a name unambiguously means, or None.

    Exact names pass; otherwise a name is normalised (case, spaces, hyphens, articles) and, failing that, matched
    to the single candidate whose name contains all its words ('peanut butter' -> 'peanut_butter_jar'). Two or
    more such candidates ('tomato' with tomato_1 and tomato_2) are ambiguous: the program writer must choose."""
    if given in candidates:
        return given
    words = name_tokens(given)
    if not words:
        return None
    normal = "_".join(words)
    exact = [c for c in candidates if "_".join(name_tokens(c)) == normal]
    if len(exact) == 1:
        return exact[0]
    containing = candidates_for(given, candidates)
    return containing[0] if len(containing) == 1 else None


def candidates_for(given: str, names: list[str]) -> list[str]:
    """Names whose words include every word of `given` ('tomato' -> tomato_1, tomato_2)."""
    words = set(name_tokens(given))
    return [n for n in names if words and words <= set(name_tokens(n))]


def singular(word: str) -> str:
    """English plural to singular for object words ('tomatoes' -> 'tomato', 'boxes' -> 'box', 'cherries' ->
    'cherry', 'cubes' -> 'cube'); a word that is not a plural comes back unchanged."""
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith(("oes", "ses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if len(word) > 2 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def plural_members(given: str, names: list[str]) -> list[str]:
    """The names a plural means ('tomatoes' -> tomato_1, tomato_2): the given words with the last one made
    singular, contained in two or more names. Empty when the given name is no plural or means fewer than two."""
    words = name_tokens(given)
    if not words or singular(words[-1]) == words[-1]:
        return []
    members = candidates_for(" ".join([*words[:-1], singular(words[-1])]), names)
    return members if len(members) >= 2 else []


_COLOUR_TALK = ("colo", "farb", "couleur", "色")  # colour/color/coloured, Farbe, couleur, 颜色/色 (stems)


def mentions_colour(text: str) -> bool:
    """Whether a description speaks of colour: a colour word ('the yellow bucket') or the word colour itself in a
    few languages ('the crate that's the colour of grass', 'grass-coloured', 'der grüne Farbe', '绿色的')."""
    lowered = text.lower()
    return bool(colour_words(text)) or any(stem in lowered for stem in _COLOUR_TALK)


def given_words(given: str) -> set[str]:
    """The words a place is asked for by, plus the English colours it names in another language ('contenitore
    giallo' -> contenitore, giallo, yellow), since the robot knows its places' colours by their English names. A
    second spelling counts as the one the robot knows ('grey' -> gray): kept as well, it would read as a colour
    no place has (measured on the attic split: 'the grey cupboard' left the choice among all four cupboards)."""
    return {COLOUR_SPELLINGS.get(t, t) for t in name_tokens(given)} | colour_words(given)


def place_words(place: str, colours: dict[str, str] | None = None) -> set[str]:
    """The words a place may be called by: its name's words plus its colour's ('tool_bucket' painted yellow:
    tool, bucket, yellow), so 'the yellow bucket' means it even though no place is named yellow_bucket."""
    colour = (colours or {}).get(place, "")
    return given_words(place) | given_words(colour)


def resolution_options(given: str, places: list[str], colours: dict[str, str] | None = None) -> list[str]:
    """The places a model may choose from for a target that is not a place, or [] when it must stay an error.

    A place is known by the words of its name and of its colour where the robot knows it (`colours`, place ->
    colour name). Several places have all the given words ('bin' -> recycling_bin, trash_bin, compost_bin): those.
    None of its words belongs to any place ('碗', 'where the rubbish goes'): every place. Some of its words belong
    to a place and the others are a colour no place has ('purple box' where only a red 'box' exists): it names a
    property no place has, so it is not guessed. Otherwise the others are another word for the kind of place ('red
    bucket' where red_bin exists, 'yellow bucket' where tool_bucket is yellow): the places that have all its known
    words."""
    words = given_words(given)
    known_by = {p: place_words(p, colours) for p in places}
    containing = [p for p in places if words and words <= known_by[p]]
    if len(containing) >= 2 or (len(containing) == 1 and colours and words - set(name_tokens(containing[0]))):
        return containing  # one place only through its colour ('yellow bucket' -> tool_bucket) is one option
    known = set().union(*known_by.values()) if places else set()
    if words and not words & known:
        return list(places)
    if not words or (words - known) & COLOUR_WORDS:
        return []
    return [p for p in places if words & known <= known_by[p]]
