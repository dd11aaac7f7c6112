"""The rule layer of prompt understanding: emotion words, intensity modifiers, negation, emoji and
muscle descriptions, read from one clause of text into explicit evidence.

Word strengths (0..1) place synonyms on one intensity scale ("annoyed" 0.35 < "angry" 0.6 <
"livid" 0.95). The lists were written for this project from everyday English usage and the
category structure of Shaver et al., "Emotion knowledge" (JPSP 52(6), 1987), mapped onto MEAD's
eight labels.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from emocast.emotion.plan import EMOTIONS

E = dict  # short alias for the tables below

# word -> {emotion: weight}, and its intensity 0..1 ("" keys are not used)
WORDS: dict[str, tuple[dict[str, float], float]] = {}


def _add(emotion: str | dict[str, float], strength: float, *words: str) -> None:
    weights = {emotion: 1.0} if isinstance(emotion, str) else emotion
    for w in words:
        WORDS[w] = (weights, strength)


# --- anger ------------------------------------------------------------------------------------
_add("angry", 0.3, "irked", "peeved", "miffed", "bothered", "grumpy", "cranky", "testy", "displeased", "put out")
_add("angry", 0.38, "annoyed", "annoying", "annoyance", "irritated", "irritation", "irritable", "frustrated",
     "frustration", "frustrating", "vexed", "exasperated", "impatient", "sulky")
_add("angry", 0.55, "mad", "cross", "upset", "resentful", "indignant", "hostile", "bitter", "sour", "agitated",
     "defiant", "stern", "scowl", "scowling", "scowls", "glare", "glaring", "glares", "glowering", "frown", "frowning",
     "frowns", "grumbling", "seething", "fuming", "snapping", "snarling", "snarl", "growl", "growling", "clenched")
_add("angry", 0.6, "angry", "anger", "angrily", "angered", "aggressive", "aggression", "hateful", "hatred", "hate",
     "outraged", "outrage", "irate", "heated", "shouting", "yelling", "confrontational", "infuriated", "incensed",
     "wrath", "rage", "raging", "rages", "temper", "furor")
_add("angry", 0.85, "furious", "furiously", "fury", "enraged", "infuriating", "storming", "violent", "seethes",
     "screaming at", "pissed", "pissed off")
_add("angry", 0.8, "explode", "explodes", "exploding", "blow up", "blows up", "blowing up", "snaps at", "snapped at",
     "lose it", "loses it", "losing it", "lost it", "see red", "sees red", "seeing red", "loses her temper",
     "loses his temper", "lost her temper", "lost his temper", "losing her temper", "losing his temper",
     "temper flares", "had enough", "fed up")
_add("angry", 0.95, "livid", "apoplectic", "berserk", "murderous", "incandescent", "rabid", "ballistic")

# --- contempt ---------------------------------------------------------------------------------
_add("contempt", 0.4, "unimpressed", "skeptical", "sceptical", "dismissive", "smirk", "smirking", "smirks",
     "sarcastic", "sarcasm", "wry", "ironic", "patronizing", "patronising", "condescending", "superior", "smug",
     "smugly", "snide", "mocking", "mock", "mockery", "sneering", "sneer", "sneers", "haughty", "arrogant",
     "arrogance", "snooty", "snobbish", "smart-ass", "eyeroll", "disbelieving", "derisive", "derision",
     "belittling", "scoff", "scoffs", "scoffing", "pompous", "self-satisfied", "holier")
_add("contempt", 0.5, "not impressed", "rolls eyes", "rolls her eyes", "rolls his eyes", "rolling eyes",
     "rolled her eyes", "rolled his eyes", "eye roll", "eye-roll", "eyes roll", "looks down on", "looking down on",
     "looks down her nose", "looks down his nose", "oh please", "yeah right")
_add("contempt", 0.65, "contempt", "contemptuous", "contemptuously", "disdain", "disdainful", "scorn", "scornful",
     "disrespect", "disrespectful", "insolent", "derisory", "superiority", "pity", "pitying")
_add("contempt", 0.85, "loathing", "despise", "despises", "despising", "utter contempt")

# --- disgust ----------------------------------------------------------------------------------
_add("disgusted", 0.35, "icky", "yucky", "distaste", "unappetizing", "off-putting", "queasy", "squeamish")
_add("disgusted", 0.6, "disgust", "disgusted", "disgusting", "gross", "grossed", "grossed out", "nasty", "yuck",
     "ew", "eww", "ewww", "ugh", "repulsed", "repulsive", "repelled", "revolted", "revolting", "nauseous",
     "nauseated", "nausea", "sickened", "sickening", "stinks", "stinky", "stench", "smelly", "rotten", "putrid",
     "foul", "vile", "filthy", "slimy", "moldy", "mouldy", "rancid", "sour milk", "vomit", "puke", "maggots",
     "cringe", "cringing", "cringes", "appalled", "offensive", "spits out", "spit out", "throw up",
     "throws up", "threw up")
_add("disgusted", 0.85, "repugnant", "abhorrent", "nauseating", "loathsome", "sickened", "abomination", "gag",
     "gagging", "retching", "retch", "heave", "barf")

# --- fear -------------------------------------------------------------------------------------
_add("fear", 0.3, "uneasy", "unease", "wary", "hesitant", "apprehensive", "tense", "jittery", "jumpy", "edgy",
     "concerned", "uncomfortable", "insecure", "timid", "shy", "doubtful")
_add("fear", 0.45, "nervous", "nervously", "nervousness", "anxious", "anxiety", "anxiously", "worried",
     "worry", "worrying", "worries", "stressed", "stress", "scary", "spooked", "creepy", "threatened", "dread",
     "dreading", "dreads", "uncertain", "alarmed", "alarm", "on edge", "tremble", "trembling", "shaking",
     "shivering", "cowering", "cower", "flinch", "flinching", "flinches", "vulnerable")
_add("fear", 0.65, "afraid", "scared", "fear", "fearful", "fearfully", "frightened", "frightening", "fright",
     "panic", "panicky", "panicked", "panicking", "distressed", "menacing", "threat", "danger", "dangerous",
     "intimidated", "haunted", "ominous", "creeped out", "freaked out", "freaking out", "phobia", "horror")
_add("fear", 0.9, "terrified", "terrifying", "terror", "petrified", "horrified", "horrifying", "paralyzed",
     "paralysed", "panic attack", "mortified", "hysterical", "scared to death", "scared stiff", "frozen in fear")

# --- happiness --------------------------------------------------------------------------------
_add("happy", 0.3, "pleased", "content", "contented", "satisfied", "amused", "pleasant", "friendly", "warm",
     "kind", "fond", "nice", "okay", "fine", "good", "hopeful", "relieved", "relief", "grateful", "thankful",
     "welcoming", "polite", "playful", "cheeky", "charmed", "comforted", "tender", "affectionate")
_add("happy", 0.55, "happy", "happily", "happiness", "glad", "cheerful", "cheery", "smile", "smiling", "smiles",
     "smiled", "grin", "grinning", "grins", "grinned", "beam", "beaming", "beams", "joy", "joyful", "joyous",
     "delight", "delighted", "delightful", "laugh", "laughs", "laughing", "laughed", "laughter", "chuckle",
     "chuckling", "giggle", "giggling", "giggles", "merry", "jolly", "love", "loving", "loves", "adore", "adoring",
     "proud", "pride", "excited", "excitement", "exciting", "enjoy", "enjoying", "fun", "celebrate",
     "celebrating", "celebration", "bright", "sunny", "upbeat", "positive", "optimistic", "bubbly", "radiant",
     "glowing", "elated", "thrilled", "yay", "hooray", "hurray", "woohoo", "congratulations", "congrats",
     "blessed", "lucky", "wonderful", "great", "awesome", "fantastic", "amazing", "lovely", "win", "won", "winning",
     "victory", "triumph", "triumphant", "gleeful", "glee", "jubilant", "blissful", "bliss", "giddy")
_add("happy", 0.85, "ecstatic", "euphoric", "overjoyed", "exhilarated", "exuberant", "rapturous", "elation",
     "over the moon", "on cloud nine", "on top of the world", "hysterical laughter", "laughing hard",
     "cracking up", "belly laugh", "roaring with laughter", "in stitches", "ecstasy", "best day")

# --- sadness ----------------------------------------------------------------------------------
_add("sad", 0.3, "down", "blue", "glum", "low", "disappointed", "disappointing", "disappointment", "wistful",
     "pensive", "melancholy", "melancholic", "nostalgic", "homesick", "lonely", "lonesome", "tired", "weary",
     "sorry", "regret", "regretful", "apologetic", "sigh", "sighing", "sighs", "deflated", "discouraged",
     "let down", "moody", "sullen", "mopey", "moping", "pouting", "pout", "hurt", "wounded", "sombre", "somber")
_add("sad", 0.55, "sad", "sadly", "sadness", "unhappy", "upsetting", "sorrow", "sorrowful", "gloomy", "gloom",
     "miserable", "misery", "dejected", "downcast", "downhearted", "depressed", "depressing", "depression",
     "heavy-hearted", "teary", "tearful", "tears", "tear", "weep", "weeping", "weeps", "cry", "crying", "cries",
     "cried", "mourning", "mourn", "mournful", "grieving", "grief", "grieve", "loss", "lost", "funeral", "died",
     "passed away", "death", "goodbye", "farewell", "forlorn", "hopeless", "despondent", "lamenting", "woeful",
     "heartache", "lump in throat", "choked up", "welling up", "misty-eyed", "gutted", "crushed", "broken",
     "abandoned", "rejected", "dumped")
_add("sad", 0.85, "heartbroken", "heartbreaking", "devastated", "devastating", "despair", "desolate",
     "anguish", "anguished", "inconsolable", "grief-stricken", "sobbing", "sobs", "sob", "bawling", "wailing",
     "burst into tears", "bursts into tears", "bursting into tears", "breaks down", "broke down",
     "breaking down", "falls apart", "tragic", "tragedy", "crushing")

# --- surprise ---------------------------------------------------------------------------------
_add("surprised", 0.35, "curious", "intrigued", "puzzled", "unexpected", "unexpectedly", "huh", "oh",
     "wonder", "wondering", "confused", "perplexed", "bewildered", "startle")
_add("surprised", 0.6, "surprise", "surprised", "surprising", "surprisingly", "amazed", "astonished",
     "astonishment", "shock", "shocked", "shocking", "startled", "stunned", "speechless", "gasp", "gasping",
     "gasps", "gasped", "wow", "whoa", "woah", "omg", "unbelievable", "incredulous", "disbelief", "taken aback",
     "caught off guard", "open-mouthed", "wide-eyed", "jaw drops", "jaw dropped", "jaw-dropping", "agape",
     "awe", "awestruck", "in awe", "blown away", "baffled", "dumbfounded", "flabbergasted", "astounded",
     "can't believe", "cannot believe", "can not believe", "no way", "plot twist")
_add("surprised", 0.9, "thunderstruck", "gobsmacked", "utterly shocked", "mind-blown", "mind blown", "floored")

# --- neutral ----------------------------------------------------------------------------------
_add("neutral", 0.0, "neutral", "calm", "calmly", "composed", "expressionless", "blank", "deadpan", "stoic",
     "impassive", "emotionless", "unemotional", "unmoved", "indifferent", "detached", "flat", "monotone",
     "poker face", "poker-faced", "straight face", "straight-faced", "matter-of-fact", "serious",
     "neutrally", "relaxed", "at ease", "steady", "ordinary", "normal",
     "businesslike", "professional", "formal", "objective", "factual", "informative",
     "newsreader", "news anchor", "announcement", "announcing", "lecture", "presenting", "explaining",
     "dictating", "bored", "boredom", "bland", "unbothered", "nonchalant", "casual", "placid", "serene",
     "tranquil", "peaceful", "quiet", "collected", "unfazed", "no emotion", "neutral expression", "resting face")

# --- mixtures (Du et al. 2014 compound expressions) ---------------------------------------------
_add({"happy": 0.55, "sad": 0.6}, 0.55, "bittersweet", "bitter-sweet", "happy tears", "tears of joy",
     "smiling through tears", "sad smile", "wistful smile")
_add({"fear": 0.6, "happy": 0.5}, 0.5, "nervous laughter", "nervous laugh", "nervous smile", "awkward smile",
     "awkward laugh", "forced smile", "anxious smile")
_add({"surprised": 0.6, "happy": 0.65}, 0.7, "pleasantly surprised", "happy surprise", "delighted surprise",
     "surprise party", "pleasant surprise")
_add({"surprised": 0.6, "fear": 0.6}, 0.7, "fearfully surprised", "alarmed surprise")
_add({"angry": 0.6, "disgusted": 0.6}, 0.7, "angrily disgusted", "revulsion and rage")
_add({"sad": 0.6, "angry": 0.5}, 0.6, "bitter disappointment", "hurt and angry")
_add({"contempt": 0.7, "happy": 0.2}, 0.45, "smug grin", "smug smile", "self-satisfied smile", "knowing smirk")
_add({"surprised": 0.5, "disgusted": 0.5}, 0.6, "disgusted surprise", "shocked and disgusted")

# --- events: outcomes that evoke an emotion in a scene description (weaker than emotion words) ----
_add({"happy": 0.5}, 0.6, "got in", "got into", "accepted", "acceptance", "admitted", "hired", "promoted", "promotion",
     "graduated", "graduation", "engaged", "proposal", "proposes", "newborn", "reunited", "reunion",
     "scored", "champion", "champions", "jackpot", "birthday", "wedding", "gift",
     "vacation", "holiday", "hug", "hugs", "hugging", "kiss", "cheers", "cheering", "applause")
_add({"sad": 0.5}, 0.6, "rejection", "rejected", "fired", "laid off", "failed", "fails", "divorce", "breakup",
     "broke up", "funeral", "cemetery", "grave", "hospital bed", "passed away", "miscarriage", "alone", "empty", "last goodbye", "never again")
_add({"angry": 0.5}, 0.6, "stolen", "stole", "cheated", "lied", "betrayed", "insulted", "blamed", "cut him off", "cut her off", "scratched", "keyed", "vandalized", "unfair", "injustice",
     "ripped off", "scammed", "ignored")
_add({"fear": 0.5}, 0.6, "intruder", "footsteps", "in the dark", "alone at night", "gun", "knife", "attack",
     "attacked", "chasing", "chased", "followed", "crash", "kidnapped",
     "ghost", "monster", "scream", "screams", "emergency", "diagnosis", "turbulence")
_add({"disgusted": 0.5}, 0.6, "smell", "smells", "odor", "odour", "rat", "rats", "cockroach",
     "toilet", "snot", "spit", "spat", "mucus", "garbage", "trash", "dumpster", "leftovers")
_add({"surprised": 0.5}, 0.6, "turns out", "out of nowhere", "never expected",
     "didn't expect", "did not expect", "yell surprise", "suddenly appears",
     "twins", "revealed", "reveal", "twist", "inherited")

# --- emoji and emoticons ----------------------------------------------------------------------
EMOJI: dict[str, tuple[dict[str, float], float]] = {}
for _chars, _emotion, _strength in [
    ("😀😃😄😁☺🙂😊😌😇🥳😺😸😻😍🥰😘🤗", "happy", 0.6),
    ("😆😂🤣😹", "happy", 0.85),
    ("😢😞😔😟☹🙁😿💔🥺😥😪", "sad", 0.55),
    ("😭", "sad", 0.9),
    ("😠😤👿💢", "angry", 0.6),
    ("😡🤬", "angry", 0.9),
    ("😨😰😧😦😬", "fear", 0.6),
    ("😱", "fear", 0.9),
    ("😮😯😲🤯😳🙀", "surprised", 0.65),
    ("🤢🤮😖😣", "disgusted", 0.7),
    ("😒🙄😏🤨", "contempt", 0.55),
    ("😐😑😶🫤", "neutral", 0.0),
]:
    for _c in _chars:
        EMOJI[_c] = ({_emotion: 1.0}, _strength)
EMOTICONS: dict[str, tuple[dict[str, float], float]] = {
    ":)": ({"happy": 1.0}, 0.5), ":-)": ({"happy": 1.0}, 0.5), ":d": ({"happy": 1.0}, 0.8),
    ":-d": ({"happy": 1.0}, 0.8), "xd": ({"happy": 1.0}, 0.8), "^_^": ({"happy": 1.0}, 0.6),
    ":(": ({"sad": 1.0}, 0.5), ":-(": ({"sad": 1.0}, 0.5), ":'(": ({"sad": 1.0}, 0.85), "t_t": ({"sad": 1.0}, 0.8),
    ">:(": ({"angry": 1.0}, 0.7), ">:-(": ({"angry": 1.0}, 0.7), ":o": ({"surprised": 1.0}, 0.6),
    ":-o": ({"surprised": 1.0}, 0.6), "o_o": ({"surprised": 1.0}, 0.6), "d:": ({"fear": 1.0}, 0.7),
    ":/": ({"contempt": 1.0}, 0.35), ":-/": ({"contempt": 1.0}, 0.35), ":|": ({"neutral": 1.0}, 0.0),
    ":-|": ({"neutral": 1.0}, 0.0), "-_-": ({"contempt": 1.0}, 0.4), ";)": ({"happy": 1.0}, 0.45),
}

# --- intensity modifiers: factor on the next emotion word (within 3 tokens) or the clause ------
MODIFIERS: dict[str, float] = {}
for _factor, _words in [
    (0.5, ("slightly", "barely", "faintly", "a bit", "a little", "a tad", "a touch", "a hint of", "hint of",
           "a trace of", "trace of", "kind of", "kinda", "sort of", "somewhat", "mildly", "vaguely", "subtly",
           "subtle", "faint", "gently", "softly", "lightly", "mild", "hardly", "little", "tiny", "restrained",
           "suppressed", "muted", "understated", "quietly", "half")),
    (1.15, ("quite", "pretty", "rather", "fairly", "clearly", "visibly", "obviously", "genuinely", "truly")),
    (1.35, ("very", "really", "so", "deeply", "highly", "super", "seriously", "terribly", "awfully", "intensely",
            "strongly", "hugely", "massively", "wildly", "much", "big", "wide", "broad", "hard", "loud",
            "loudly", "openly", "full", "real", "bursting", "intense", "extreme", "overwhelming")),
    (1.55, ("extremely", "incredibly", "absolutely", "utterly", "completely", "totally", "insanely",
            "overwhelmingly", "uncontrollably", "uncontrollable", "beyond", "unbelievably", "ridiculously",
            "hysterically", "violently", "explosive", "full-blown", "all-out", "maximum", "max")),
]:
    for _w in _words:
        MODIFIERS[_w] = _factor

NEGATORS = frozenset({"not", "no", "never", "hardly", "without", "nothing", "neither", "nor", "none", "nobody",
                      "lack", "lacks", "lacking", "isnt", "wasnt", "dont", "doesnt", "didnt", "cant", "cannot",
                      "wont", "arent", "aint"})
NEGATION_BREAKERS = frozenset({"but", "yet", "though", "although", "however", "instead", "rather", "just",
                               "only", "more", "and"})
NEGATION_SCOPE = 4  # tokens after a negator that it reaches

# What a negated emotion word suggests instead ("not happy at all" reads as unhappy).
NEGATED: dict[str, dict[str, float]] = {
    "happy": {"sad": 0.7, "neutral": 0.2, "angry": 0.1},
    "sad": {"neutral": 0.6, "happy": 0.4},
    "angry": {"neutral": 0.8, "happy": 0.2},
    "fear": {"neutral": 0.8, "happy": 0.2},
    "surprised": {"neutral": 0.7, "contempt": 0.3},
    "disgusted": {"neutral": 0.8, "happy": 0.2},
    "contempt": {"neutral": 0.8, "happy": 0.2},
    "neutral": {"surprised": 0.25, "angry": 0.25, "happy": 0.25, "sad": 0.25},
}

# --- muscle descriptions -> AUs ------------------------------------------------------------------
# (regex over normalised text, {AU: weight}); weights are apex-relative like the prototypes.
_BROW = r"(?:brows?|eyebrows?|forehead)"
_LIDS = r"(?:eyes?|eyelids?|lids?)"
_LIPS = r"(?:lips?|mouth)"
_INNER_OF = r"(?:(?:ends?|corners?|parts?|edges?) of (?:the |her |his |their |my )?)?"  # "inner ends of the brows"
_CORNERS = r"(?:lip corners?|corners of (?:the|her|his|their|my)? ?(?:mouth|lips)|mouth corners?)"
_UP = r"(?:raised|raise|raises|raising|up|lifted|lifts|lift|lifting|arched|arch|arching|shot up|shoots up|go up|goes up|high)"
_DOWN = r"(?:lowered|lower|lowers|down|drawn down|pulled down|slammed down|furrowed|furrow|furrows|knit|knitted|knotted|drawn together|pulled together|pinched|scrunched|bunched|frowning|heavy)"
MUSCLES: list[tuple[str, dict[str, float]]] = [
    (rf"inner {_INNER_OF}{_BROW} (?:\w+ ){{0,2}}{_UP}|{_UP} inner {_INNER_OF}{_BROW}", {"AU1": 0.9}),
    (rf"{_BROW} (?:\w+ ){{0,2}}{_UP}|{_UP} {_BROW}|{_BROW} in (?:the )?air", {"AU1": 0.8, "AU2": 0.8}),
    (rf"{_BROW} (?:\w+ ){{0,2}}{_DOWN}|{_DOWN} {_BROW}|furrowed|brow furrow|scowl\w*|frown\w*", {"AU4": 0.9}),
    (rf"{_LIDS} (?:\w+ ){{0,2}}(?:wide|widened|widening|wide open|bulging|popping|open wide)|wide[- ]eyed|wide {_LIDS}|widen\w* {_LIDS}|eyes? pop\w*|staring|stare", {"AU5": 0.85}),
    (rf"{_LIDS} (?:\w+ ){{0,2}}(?:narrowed|narrow|narrowing|squinting|squinted|tightened|tight|slitted)|narrow\w* {_LIDS}|squint\w*", {"AU7": 0.8}),
    (rf"{_LIDS} (?:\w+ ){{0,2}}(?:closed|shut|squeezed shut)|clos\w* {_LIDS}|shut {_LIDS}", {"AU43": 0.9}),
    (rf"{_LIDS} (?:\w+ ){{0,2}}(?:drooping|droopy|heavy|downcast|half-closed|half closed)|droop\w* {_LIDS}|downcast", {"AU43": 0.4, "AU1": 0.4}),
    (r"cheeks? (?:\w+ ){0,2}(?:raised|up|lifted|pushed up|puffed)|rais\w* cheeks?|crow'?s feet|smiling eyes|eyes? crinkl\w*|crinkl\w* eyes?", {"AU6": 0.85}),
    (r"nose (?:\w+ ){0,2}(?:wrinkled|wrinkling|scrunched|crinkled)|wrinkl\w* (?:the |her |his |their )?nose|scrunch\w* (?:up )?(?:the |her |his |their )?nose|nose wrinkl\w*", {"AU9": 0.9}),
    (r"upper lip (?:\w+ ){0,2}(?:raised|curled|lifted|up)|curl\w* (?:the |her |his |their )?(?:upper )?lip|lip curl\w*|snarl\w*", {"AU10": 0.85}),
    (rf"{_CORNERS} (?:\w+ ){{0,2}}(?:up|upward|raised|lifted|turned up|pulled up)|(?:big |broad |wide |warm |huge )?(?:smile|smiling|grin|grinning|beaming)", {"AU12": 0.85, "AU6": 0.4}),
    (rf"{_CORNERS} (?:\w+ ){{0,2}}(?:down|downward|turned down|pulled down|drooping|droop)|downturned (?:mouth|lips)|pout\w*", {"AU15": 0.85}),
    (r"one[- ]sided (?:smile|smirk)|half[- ]smile|lopsided (?:smile|grin)|one corner of (?:the |her |his |their )?(?:mouth|lips?) (?:\w+ ){0,1}(?:up|raised|lifted|tightened)|smirk\w*|dimpl\w*", {"AU14": 0.85, "AU12": 0.4}),
    (r"lower lip (?:\w+ ){0,2}(?:pulled down|down|pushed down|depressed|dropped)", {"AU16": 0.8}),
    (r"chin (?:\w+ ){0,2}(?:raised|up|puckered|trembling|quivering|wrinkled|pushed up)|(?:quivering|trembling|wobbly|wobbling) (?:chin|lips?|bottom lip|lower lip)|(?:chin|lips?|bottom lip|lower lip) (?:quivering|trembling|wobbling)|lip (?:quiver|tremble)\w*", {"AU17": 0.8}),
    (rf"{_LIPS} (?:\w+ ){{0,2}}(?:stretched|pulled wide|pulled back|drawn back)|stretch\w* (?:the )?{_LIPS}|grimac\w*", {"AU20": 0.85}),
    (rf"{_LIPS} (?:\w+ ){{0,2}}(?:pressed|pressed together|pressed tight|clamped|sealed|pursed|compressed)|press\w* (?:the |her |his |their )?{_LIPS}|purs\w* (?:the |her |his |their )?{_LIPS}|clench\w* (?:jaw|teeth)|jaw clench\w*|gritt?\w* teeth", {"AU24": 0.85}),
    (rf"{_LIPS} (?:\w+ ){{0,2}}(?:tightened|tight|thin|thinned|narrowed|tense)|tight[- ]lipped|thin[- ]lipped|tighten\w* (?:the |her |his )?{_LIPS}", {"AU23": 0.85}),
    (rf"{_LIPS} (?:\w+ ){{0,2}}(?:parted|apart|slightly open|part)|part\w* {_LIPS}", {"AU25": 0.7}),
    (rf"{_LIPS} (?:\w+ ){{0,2}}(?:open|opened|hanging open|agape|falls open|fell open|drops open|gaping|wide open)|open[- ]mouthed|jaw (?:\w+ ){{0,1}}(?:dropped|drops|drop|fell|falls|hanging|slack|open)|drop\w* jaw|gaping|gape\w*|agape", {"AU25": 0.8, "AU26": 0.85}),
    (r"(?:drawn|pulled|knit|knitted|pinched|squeezed) together", {"AU4": 0.7}),
    (rf"(?:bit|biting|bites|suck\w*|pull\w* in) (?:\w+ ){{0,1}}{_LIPS}|{_LIPS} (?:sucked|pulled|rolled) in", {"AU28": 0.8}),
]
_MUSCLE_RES = [(re.compile(rf"\b(?:{pattern})\b"), aus) for pattern, aus in MUSCLES]

FOREIGN_FUNCTION_WORDS = frozenset(
    "der die das und ist nicht ich bin sehr sie er wir ein eine mit auf zu el la los las es muy estoy está "
    "y que de por para con una je suis très le les est et pas une avec pour dans il elle sono molto non che "
    "della il lo gli per ja nie jest się tak eu não muito com uma ele ela".split()
)


@dataclass
class Evidence:
    """What the rule layer read in one clause."""

    scores: dict[str, float] = field(default_factory=lambda: {e: 0.0 for e in EMOTIONS})  # summed weights
    intensity: float | None = None  # the strongest word's strength after modifiers, None if no word
    hits: list[str] = field(default_factory=list)  # matched words/phrases, for explanations and tests
    muscle_aus: dict[str, float] = field(default_factory=dict)  # AUs the text names directly
    blend: dict[str, float] = field(default_factory=dict)  # emotions a mixture word names together
    negated: bool = False  # an emotion word stood under negation
    intensity_factor: float = 1.0  # clause-wide modifiers ("subtle", "overwhelming") and punctuation
    known_fraction: float = 1.0  # share of alphabetic tokens that are English words
    num_words: int = 0  # alphabetic tokens
    corrections: dict[str, str] = field(default_factory=dict)  # misspelt token -> lexicon word


def normalize(text: str) -> str:
    """Lower case, unify quotes/dashes, expand n't, keep emoji, emoticons and word characters."""
    text = unicodedata.normalize("NFKC", text).replace("\ufe0f", "")
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("—", " - ")
    text = text.lower()
    text = re.sub(r"\bcan't\b|\bcannot\b", "can not", text)
    text = re.sub(r"\bwon't\b", "will not", text)
    text = re.sub(r"n't\b", " not", text)
    return text


_TOKEN_RE = re.compile(r">:-?\(|:'\(|[:;]-?[()dpo/|]|\^_\^|-_-|o_o|t_t|\bxd\b|\bd:|[a-z][a-z'\-]*|[^\s\w]")


def tokenize(text: str) -> list[str]:
    """Tokens of normalised text: words, emoticons, emoji and punctuation marks."""
    return [t.strip("'-") or t for t in _TOKEN_RE.findall(text)]


@lru_cache(maxsize=1)
def _phrases() -> list[tuple[tuple[str, ...], str]]:
    """Multi-word lexicon entries as token tuples, longest first."""
    multi = [(tuple(k.split()), k) for k in list(WORDS) + list(MODIFIERS) if " " in k]
    return sorted(multi, key=lambda x: -len(x[0]))


@lru_cache(maxsize=1)
def english_vocabulary() -> frozenset[str]:
    """Whole words of the MiniLM word-piece vocabulary (about 22k English words) plus the lexicon."""
    from emocast.emotion.minilm import model_dir

    words: set[str] = set()
    try:
        with open(model_dir() / "vocab.txt", encoding="utf-8") as f:
            words = {w.strip() for w in f if w.strip().isalpha() and w.strip().isascii()}
    except OSError:  # model package missing: fall back to the lexicon only
        pass
    words |= {w for k in list(WORDS) + list(MODIFIERS) for w in k.split()}
    return frozenset(words - FOREIGN_FUNCTION_WORDS)


@lru_cache(maxsize=4096)
def correct_typo(word: str) -> str | None:
    """The lexicon word a misspelt token most likely means ("anrgy" -> "angry"), or None."""
    if len(word) < 4 or not word.isalpha():
        return None
    single = [k for k in WORDS if " " not in k and abs(len(k) - len(word)) <= 2 and k[0] in (word[0], word[1])]
    # a typo is about one slip per five letters ("anrgy", "hapy", "terified"); a word two letters
    # from an emotion word is another word (French "vient" is not "violent", "scorched" not "scored")
    limit = max(1, len(word) // 5)
    for match in difflib.get_close_matches(word, single, n=3, cutoff=0.8):
        if _edit_distance(word, match) <= limit:
            return match
    return None


def _edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) between two words."""
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def read_clause(text: str) -> Evidence:
    """Evidence of one clause: emotion word scores, intensity, negation, emoji, named muscles."""
    ev = Evidence()
    norm = normalize(text)
    vocab = english_vocabulary()

    # named muscles first; their words ("down", "wide", "smile") are then blanked so that they do
    # not count again as emotion words: the AUs speak for them
    spans = []
    for pattern, aus in _MUSCLE_RES:
        for m in pattern.finditer(norm):
            if any(m.start() < b and a < m.end() for a, b in spans):
                continue
            spans.append((m.start(), m.end()))
            if _negated_at(norm[: m.start()]):
                continue
            for au, w in aus.items():
                ev.muscle_aus[au] = max(ev.muscle_aus.get(au, 0.0), w)
            ev.hits.append(m.group(0))
    for a, b in spans:
        norm = norm[:a] + " " * (b - a) + norm[b:]
    tokens = tokenize(norm)

    # merge multi-word entries into single tokens
    merged: list[str] = []
    i = 0
    phrases = _phrases()
    while i < len(tokens):
        for words, key in phrases:
            if tuple(tokens[i : i + len(words)]) == words:
                merged.append(key)
                i += len(words)
                break
        else:
            merged.append(tokens[i])
            i += 1

    alpha = [t for t in merged if t[0].isalpha() and not t.startswith("xd")]
    ev.num_words = len(alpha)
    known = sum(1 for t in alpha if t in vocab or t in WORDS or " " in t or correct_typo(t) is not None)
    ev.known_fraction = known / len(alpha) if alpha else 1.0

    negate_left = 0
    pending_factor = 1.0
    pending_left = 0
    best_strength = None
    for tok in merged:
        entry = WORDS.get(tok) or EMOJI.get(tok) or EMOTICONS.get(tok)
        if entry is None and tok.isalpha() and tok not in vocab:
            fixed = correct_typo(tok)
            if fixed is not None:
                entry = WORDS[fixed]
                ev.corrections[tok] = fixed
                tok = fixed
        if tok in NEGATORS:
            negate_left = NEGATION_SCOPE
            continue
        if tok in NEGATION_BREAKERS or tok in {",", ".", ";", "!", "?", ":"}:
            negate_left = 0
        if tok in MODIFIERS and entry is None:
            if pending_left > 0:  # an unused modifier still tells something about the clause
                ev.intensity_factor *= pending_factor ** 0.5
            pending_factor, pending_left = MODIFIERS[tok], 3
            continue
        if entry is not None:
            weights, strength = entry
            factor = pending_factor if pending_left > 0 else 1.0
            if negate_left > 0:
                ev.negated = True
                for emotion, w in weights.items():
                    for target, share in NEGATED[emotion].items():
                        ev.scores[target] += 0.8 * w * share
                ev.hits.append(f"not {tok}")
                strength = 0.5 if strength > 0 else 0.0
            else:
                for emotion, w in weights.items():
                    ev.scores[emotion] += w
                    if len(weights) > 1:  # "bittersweet", "nervous laughter": show both in the face
                        ev.blend[emotion] = max(ev.blend.get(emotion, 0.0), w)
                ev.hits.append(tok)
            if strength > 0:
                s = min(strength * factor, 1.0)
                best_strength = s if best_strength is None else max(best_strength, s)
            pending_left = 0
        negate_left = max(negate_left - 1, 0)
        if pending_left == 1:
            ev.intensity_factor *= pending_factor ** 0.5  # "a subtle, quiet look": clause-wide hint
        pending_left = max(pending_left - 1, 0)
    if pending_left > 0:
        ev.intensity_factor *= pending_factor ** 0.5

    ev.intensity = best_strength
    # punctuation and shouting raise intensity a little
    bangs = min(text.count("!"), 3)
    ev.intensity_factor *= 1.0 + 0.06 * bangs
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 4 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        ev.intensity_factor *= 1.15
    return ev


def corrected_text(text: str, corrections: dict[str, str]) -> str:
    """`text` with misspelt emotion words replaced (for the sentence embedding, which typos confuse)."""
    for wrong, right in corrections.items():
        text = re.sub(rf"(?i)\b{re.escape(wrong)}\b", right, text)
    return text


def _negated_at(prefix: str) -> bool:
    """Whether the last few words before a match contain a negator (and no breaker after it)."""
    words = re.findall(r"[a-z']+|[,.;!?]", prefix)[-NEGATION_SCOPE:]
    for w in reversed(words):
        if w in NEGATION_BREAKERS or w in {",", ".", ";", "!", "?"}:
            return False
        if w in NEGATORS:
            return True
    return False
