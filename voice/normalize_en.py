"""English text normalisation: write out every number and symbol as the words the piper voice speaks.

espeak-ng 1.52 (inside piper-tts 1.8.0) reads plain digits, but it reads "$1,200" as
"dollar one thousand two hundred", "-5°C" as "minus five degrees see", and it has
no rule for dates, ordinals in context, units or web addresses. `normalize_en`
therefore turns all of them into words, so the returned text is exactly what the
voice speaks and contains printable ASCII only.

Rules run from the most specific pattern to the most general one: addresses and
phone numbers first (so their dots and dashes never become pauses or ranges),
then dates, clock times, money and measures, and plain numbers last.

Chinese numeric notation inside English text (3.5亿元, 2024年3月5日, 下午3点15分)
is rewritten by `rewrite_cjk_notation` before the Chinese characters are removed,
so an amount never loses its 万 or 亿.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from decimal import Decimal, InvalidOperation

logger = logging.getLogger(__name__)

ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
SCALES = (
    (10**18, "quintillion"),
    (10**15, "quadrillion"),
    (10**12, "trillion"),
    (10**9, "billion"),
    (10**6, "million"),
    (10**3, "thousand"),
)
# Integers with more digits than this are read digit by digit: they are
# identifiers, and Python refuses int() on strings past 4300 digits.
MAX_CARDINAL_DIGITS = 15

MONTHS = ("January February March April May June July August September October November December").split()
_MONTH_ABBREVIATIONS = {name[:3].lower(): index for index, name in enumerate(MONTHS, start=1)}
_MONTH_ABBREVIATIONS["sept"] = 9

_IRREGULAR_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                       "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}  # fmt: skip

# Currency symbol -> (singular, plural, subunit singular, subunit plural).
CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "", ""),
}
# Dollars of other regions, by the prefix before "$".
REGIONAL_DOLLARS = {"HK": "Hong Kong", "US": "U S", "NT": "New Taiwan", "A": "Australian",
                    "C": "Canadian", "S": "Singapore"}  # fmt: skip
SCALE_WORDS = {"k": "thousand", "m": "million", "bn": "billion", "b": "billion", "thousand": "thousand",
               "million": "million", "billion": "billion", "trillion": "trillion"}  # fmt: skip

# Units written after a number -> (singular, plural).
UNITS = {
    "km/h": ("kilometer per hour", "kilometers per hour"), "mph": ("mile per hour", "miles per hour"),
    "km²": ("square kilometer", "square kilometers"), "m²": ("square meter", "square meters"),
    "cm²": ("square centimeter", "square centimeters"), "m³": ("cubic meter", "cubic meters"),
    "cm³": ("cubic centimeter", "cubic centimeters"), "kWh": ("kilowatt hour", "kilowatt hours"),
    "km": ("kilometer", "kilometers"), "kg": ("kilogram", "kilograms"), "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"), "mg": ("milligram", "milligrams"), "ml": ("milliliter", "milliliters"),
    "mL": ("milliliter", "milliliters"), "kW": ("kilowatt", "kilowatts"), "GB": ("gigabyte", "gigabytes"),
    "MB": ("megabyte", "megabytes"), "KB": ("kilobyte", "kilobytes"), "kB": ("kilobyte", "kilobytes"),
    "TB": ("terabyte", "terabytes"), "GHz": ("gigahertz", "gigahertz"), "MHz": ("megahertz", "megahertz"),
    "Hz": ("hertz", "hertz"), "lbs": ("pound", "pounds"), "lb": ("pound", "pounds"), "ft": ("foot", "feet"),
    "min": ("minute", "minutes"), "m": ("meter", "meters"), "g": ("gram", "grams"), "L": ("liter", "liters"),
}  # fmt: skip
_UNIT_PATTERN = "|".join(re.escape(unit) for unit in sorted(UNITS, key=len, reverse=True))

# Words after which a four-digit number is a year: "in 1990" is "in nineteen ninety".
_YEAR_CUES = ("in since by from until till before after during of year around circa to and through "
              "between early late mid").split()  # fmt: skip

# Web addresses and e-mail addresses, read part by part.
_TOP_LEVEL_DOMAINS = "com|org|net|edu|gov|io|ai|cn|uk|de|fr|jp|hk|tw|info|co|me|tv|app|dev"
ADDRESS = re.compile(
    r"(?:https?://|www\.)[\w\-./?=&%#~+:]*[\w/]"
    r"|[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"
    rf"|\b[\w\-]+(?:\.[\w\-]+)*\.(?:{_TOP_LEVEL_DOMAINS})\b(?:/[\w\-./?=&%#~+]*[\w/])?",
    re.ASCII,
)

# Emoticons: kaomoji are a bracketed run of symbols without letters, digits or
# ideographs, with optional arms ("ヽ(´▽`)/", "(＾▽＾)", "(╯°□°)╯"); "orz" and its
# variants are a kneeling figure. They carry no words, so both voices skip them.
EMOTICON = re.compile(
    r"[ヽ\\/ﾉノ╯╰٩۶*~]*[(（](?=[^)）]*[^\s)）])[^A-Za-z0-9\u4e00-\u9fff()（）]{1,12}[)）][ヽ\\/ﾉノ╯╰٩۶*~]*"
    r"|(?<![A-Za-z])(?:orz|Orz|OTZ|OTL)(?![A-Za-z])"
)

NUMBER = r"(?<!\d)\d+(?:,\d{3})*(?:\.\d+)?"

_FOLDED = {
    "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "「": '"', "」": '"', "『": '"', "』": '"',
    "《": '"', "》": '"', "〈": '"', "〉": '"', "‘": "'", "’": "'", "‚": "'", "‹": "'", "›": "'",
    "。": ".", "、": ",", "｡": ".", "､": ",", "…": "...", "‥": "..", "—": ", ", "―": ", ", "−": "-",
    "‐": "-", "‑": "-", "‒": "-", "【": ", ", "】": ", ", "〔": ", ", "〕": ", ", "·": " ", "・": " ",
    "•": ", ", "‧": " ", "〜": "~", "〇": "0",
}  # fmt: skip


def cardinal_words(value: int) -> str:
    """Write an integer in words, American style without "and": 1234 -> one thousand two hundred thirty-four."""
    if value < 0:
        return "minus " + cardinal_words(-value)
    if value < 20:
        return ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return TENS[tens] + (f"-{ONES[ones]}" if ones else "")
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return f"{ONES[hundreds]} hundred" + (f" {cardinal_words(rest)}" if rest else "")
    for base, name in SCALES:
        if value >= base:
            high, rest = divmod(value, base)
            return f"{cardinal_words(high)} {name}" + (f" {cardinal_words(rest)}" if rest else "")
    raise AssertionError("unreachable: every value of 1000 or more has a scale")


def ordinal_words(value: int) -> str:
    """Write an ordinal in words: 21 -> twenty-first."""
    words = cardinal_words(value)
    head, separator, last = max(words.rpartition(" "), words.rpartition("-"), key=lambda parts: len(parts[0]))
    if last in _IRREGULAR_ORDINALS:
        last = _IRREGULAR_ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + separator + last


def digit_words(digits: str) -> str:
    """Read a digit string one digit at a time: "2024" -> two zero two four."""
    return " ".join(ONES[int(digit)] for digit in digits)


def number_words(written: str) -> str:
    """Read a written number with optional thousands separators and decimals."""
    integer, _, fraction = written.replace(",", "").partition(".")
    if len(integer) > MAX_CARDINAL_DIGITS or (len(integer) > 1 and integer.startswith("0")):
        text = digit_words(integer)
    else:
        text = cardinal_words(int(integer))
    if fraction:
        text += " point " + digit_words(fraction)
    return text


def year_words(year: int) -> str:
    """Read a year the way it is spoken: 1990 -> nineteen ninety, 2005 -> two thousand five, 1905 -> nineteen oh five."""
    if not 1000 <= year <= 9999 or 2000 <= year <= 2009:
        return cardinal_words(year)
    century, rest = divmod(year, 100)
    if rest == 0:
        return f"{cardinal_words(century)} hundred"
    if rest < 10:
        return f"{cardinal_words(century)} oh {ONES[rest]}"
    return f"{cardinal_words(century)} {cardinal_words(rest)}"


def plural_words(words: str) -> str:
    """Make the last word plural, as in decades: nineteen ninety -> nineteen nineties."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    return words + "s"


def fraction_words(numerator: int, denominator: int) -> str:
    """Read a fraction: 3/4 -> three quarters, 1/2 -> one half, 2/3 -> two thirds."""
    if denominator < 2:
        return f"{cardinal_words(numerator)} over {cardinal_words(denominator)}"
    if denominator == 2:
        name = "half" if numerator == 1 else "halves"
    elif denominator == 4:
        name = "quarter" if numerator == 1 else "quarters"
    else:
        name = ordinal_words(denominator) + ("" if numerator == 1 else "s")
    return f"{cardinal_words(numerator)} {name}"


def _is_one(written: str) -> bool:
    return written.replace(",", "") == "1"


def fold_symbols(text: str) -> str:
    """Fold typographic and fullwidth forms to ASCII punctuation, keeping ², ³ and vulgar fractions readable.

    NFKC would turn "m²" into "m2" and "1½" into "11⁄2", so those are rewritten first.
    """
    text = re.sub(r"(\d)\s*([½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞])", r"\1 and \2", text)
    text = re.sub(
        r"[½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞]",
        lambda match: " " + unicodedata.normalize("NFKC", match.group(0)).replace("⁄", "/"),
        text,
    )
    text = "".join(_FOLDED.get(character, character) for character in text)
    return "".join(
        character if character in "²³" else unicodedata.normalize("NFKC", character) for character in text
    )


def _cjk_amount(match: re.Match) -> str:
    number, scale, yuan = match.group(1).replace(",", ""), match.group(2), match.group(3)
    multiplier = {"万": 10**4, "亿": 10**8, "万亿": 10**12}.get(scale or "", 1)
    try:
        value = Decimal(number) * multiplier
    except InvalidOperation:
        return match.group(0)
    written = str(int(value)) if value == value.to_integral_value() else format(value.normalize(), "f")
    return written + (" yuan" if yuan else "")


def _cjk_clock(match: re.Match) -> str:
    period, hour, minute = match.group(1) or "", int(match.group(2)), int(match.group(3) or 0)
    if period in ("下午", "晚上") and hour < 12:
        suffix = " pm"
    elif period in ("上午", "早上", "凌晨"):
        suffix = " am"
    else:
        suffix = ""
    return f"{hour}:{minute:02d}{suffix}"


def rewrite_cjk_notation(text: str) -> str:
    """Rewrite Chinese numeric notation in English text into English written forms.

    3.5亿元 -> 350000000 yuan, 2024年3月5日 -> 2024-03-05, 下午3点15分 -> 3:15 pm,
    90年代 -> 90s, 第3 -> 3rd. The English voice cannot read Chinese characters, so
    without this step the amount would keep its digits but lose its 万 or 亿.
    """
    text = fold_symbols(text)
    text = re.sub(rf"({NUMBER})\s*(万亿|万|亿)?\s*(元)", _cjk_amount, text)
    text = re.sub(rf"({NUMBER})\s*(万亿|万|亿)()", _cjk_amount, text)
    text = re.sub(
        r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]",
        lambda match: f"{match.group(1)}-{int(match.group(2)):02d}-{int(match.group(3)):02d}",
        text,
    )
    text = re.sub(
        r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]",
        lambda match: (
            f" {MONTHS[int(match.group(1)) - 1]} {match.group(2)} "
            if 1 <= int(match.group(1)) <= 12
            else match.group(0)
        ),
        text,
    )
    text = re.sub(r"(\d{2}|\d{4})\s*年代", r" \1s ", text)
    text = re.sub(r"(\d{4})\s*年", r" \1 ", text)
    text = re.sub(
        r"(上午|早上|凌晨|下午|晚上)?\s*(\d{1,2})\s*[点點时]\s*(?:(\d{1,2})\s*分)?", _cjk_clock, text
    )

    def ordinal(match: re.Match) -> str:
        value = int(match.group(1)[-3:])
        suffix = "th" if 10 <= value % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
        return f" {match.group(1)}{suffix} "

    return re.sub(r"第\s*(\d+)", ordinal, text)


def remove_emoticons(text: str) -> str:
    """Remove kaomoji and "orz"-style figures, which carry no words to speak."""

    def drop(match: re.Match) -> str:
        logger.debug("Skipping the emoticon %r", match.group(0))
        return " "

    return EMOTICON.sub(drop, text)


def _read_address(match: re.Match) -> str:
    """Read a URL or e-mail address part by part, with no mark the voice would pause on."""
    words = {".": "dot", "/": "slash", "@": "at", ":": "colon", "-": "dash", "_": "underscore", "?": "question mark",
             "=": "equals", "&": "and", "%": "percent", "#": "hash", "~": "tilde", "+": "plus"}  # fmt: skip
    spoken = []
    for part in re.findall(r"[A-Za-z]+|\d|[^A-Za-z\d]", match.group(0)):
        if part.isdigit():
            spoken.append(ONES[int(part)])
        elif part.isalpha():
            # "www" and consonant-only parts are spelled; espeak reads the rest as words.
            spoken.append(
                " ".join(part) if part.lower() == "www" or not re.search("[aeiouy]", part, re.I) else part
            )
        elif part in words:
            spoken.append(words[part])
    return " " + " ".join(spoken) + " "


def _read_phone(match: re.Match) -> str:
    groups = [group for group in re.split(r"[^\d+]+", match.group(0)) if group]
    spoken = []
    for group in groups:
        prefix = "plus " if group.startswith("+") else ""
        spoken.append(prefix + digit_words(group.lstrip("+")))
    # Commas between the digit groups give the pauses people make when reading a number.
    return ", ".join(spoken)


def _replace_addresses_and_phones(text: str) -> str:
    text = ADDRESS.sub(_read_address, text)
    text = re.sub(r"\+\d{1,3}[\s-]*\d{2,4}(?:[\s-]\d{3,4}){1,3}(?!\d)", _read_phone, text)
    text = re.sub(r"\(\d{3}\)\s*\d{3}-\d{4}(?!\d)", _read_phone, text)
    text = re.sub(r"(?<![\d-])\d{3}-\d{3}-\d{4}(?![\d-])", _read_phone, text)
    # A local number without area code: 555-1234.
    text = re.sub(r"(?<![\d-])\d{3}-\d{4}(?![\d-])", _read_phone, text)
    return re.sub(r"(?<![\d-])\d{3,4}-\d{7,8}(?![\d-])", _read_phone, text)


def _date_words(year: str | None, month: int, day: int | None) -> str:
    text = MONTHS[month - 1]
    if day is not None:
        text += " " + ordinal_words(day)
    if year is not None:
        text += (", " if day is not None else " ") + year_words(int(year))
    return text


def _replace_dates(text: str) -> str:
    def numeric(year: str, month: str, day: str, whole: str) -> str:
        if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
            return whole
        return _date_words(year, int(month), int(day))

    text = re.sub(
        r"(?<![\d.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])",
        lambda m: numeric(m.group(1), m.group(2), m.group(3), m.group(0)),
        text,
    )
    # Slashed dates in English text are month/day/year: 3/5/2024 is March fifth.
    text = re.sub(
        r"(?<![\d/.])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])",
        lambda m: numeric(m.group(3), m.group(1), m.group(2), m.group(0)),
        text,
    )
    month_names = "|".join([*MONTHS, *(name.capitalize() for name in _MONTH_ABBREVIATIONS)])

    def month_index(name: str) -> int:
        return _MONTH_ABBREVIATIONS[name[:4].lower() if name.lower().startswith("sept") else name[:3].lower()]

    text = re.sub(
        rf"\b({month_names})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?",
        lambda m: (
            _date_words(m.group(3), month_index(m.group(1)), int(m.group(2)))
            if 1 <= int(m.group(2)) <= 31
            else m.group(0)
        ),
        text,
    )
    text = re.sub(
        rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({month_names})\b\.?(?:,?\s+(\d{{4}})\b)?",
        lambda m: (
            f"the {ordinal_words(int(m.group(1)))} of {MONTHS[month_index(m.group(2)) - 1]}"
            + (f", {year_words(int(m.group(3)))}" if m.group(3) else "")
            if 1 <= int(m.group(1)) <= 31
            else m.group(0)
        ),
        text,
    )
    return re.sub(
        rf"\b({month_names})\s+(\d{{4}})\b",
        lambda m: _date_words(m.group(2), month_index(m.group(1)), None),
        text,
    )


def _clock(match: re.Match) -> str:
    hour, minute, second, period = int(match.group(1)), int(match.group(2)), match.group(3), match.group(4)
    if hour > 24 or minute > 59 or (second is not None and int(second) > 59):
        if period or second is not None:
            return match.group(0)
        # Not a time of day: a score or a ratio, 3:2 -> three to two.
        return f"{cardinal_words(hour)} to {cardinal_words(minute)}"
    spoken = cardinal_words(hour)
    if minute:
        spoken += f" oh {ONES[minute]}" if minute < 10 else f" {cardinal_words(minute)}"
    elif period:
        pass
    elif 0 < hour <= 12:
        spoken += " o'clock"
    else:
        spoken += " hundred"
    if second is not None:
        spoken += f" and {cardinal_words(int(second))} seconds"
    if period:
        # espeak reads "AM" as the letters A M but a lowercase "a m" as "uh em".
        spoken += " AM" if period.lower() == "a" else " PM"
    return spoken


def _is_clock(hours: str, minutes: str) -> bool:
    """Return whether h:mm reads as a time of day: whole hours up to 24 and two-digit minutes up to 59."""
    return hours.isdigit() and int(hours) <= 24 and len(minutes) == 2 and minutes.isdigit() and int(minutes) <= 59


def _replace_times(text: str) -> str:
    # A ratio or score that cannot be a clock time (3:2, 7.1:1, 98:95) is read "to".
    text = re.sub(r"(?<![\d.:])(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)(?![\d:])",
                  lambda m: m.group(0) if _is_clock(m.group(1), m.group(2)) else f"{m.group(1)} to {m.group(2)}",
                  text)
    text = re.sub(
        r"(?<![\d.:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?\s?[Mm]\b\.?)?(?![\d:])", _clock, text
    )
    # "9 am", "7pm": an hour without minutes.
    return re.sub(
        r"(?<![\d.:])(\d{1,2})\s*([AaPp])\.?\s?[Mm]\b\.?",
        lambda m: (
            f"{cardinal_words(int(m.group(1)))} {'AM' if m.group(2).lower() == 'a' else 'PM'}"
            if 1 <= int(m.group(1)) <= 12
            else m.group(0)
        ),
        text,
    )


def _read_currency(match: re.Match) -> str:
    sign, region, symbol, amount, scale = match.groups()
    singular, plural, cent, cents = CURRENCIES[symbol]
    if symbol == "$" and region:
        singular, plural = f"{REGIONAL_DOLLARS[region]} dollar", f"{REGIONAL_DOLLARS[region]} dollars"
    minus = "minus " if sign else ""
    if scale:
        return f"{minus}{number_words(amount)} {SCALE_WORDS[scale.lower()]} {plural}"
    whole, _, fraction = amount.replace(",", "").partition(".")
    word = singular if whole == "1" and not fraction else plural
    if len(fraction) == 2 and cent:
        # $3.50 is read "three dollars fifty cents", not "three point five zero dollars".
        whole_words = f"{number_words(whole)} {singular if whole == '1' else plural}"
        if int(fraction) == 0:
            return minus + whole_words
        cent_words = f"{cardinal_words(int(fraction))} {cent if int(fraction) == 1 else cents}"
        return minus + (cent_words if whole == "0" else f"{whole_words} {cent_words}")
    return f"{minus}{number_words(amount)} {word}"


def _replace_money(text: str) -> str:
    text = re.sub(
        rf"(?<![\w.])(-)?(HK|US|NT|A|C|S)?([$£€¥])\s?({NUMBER})"
        r"(?:\s?(thousand|million|billion|trillion|bn|k|m|b)\b)?",
        _read_currency,
        text,
        flags=re.IGNORECASE,
    )
    return re.sub(rf"({NUMBER}) yuan\b", lambda m: f"{number_words(m.group(1))} yuan", text)


def _unit_words(number: str, unit: str) -> str:
    singular, plural = UNITS[unit]
    return f"{number_words(number)} {singular if _is_one(number) else plural}"


def _replace_measures(text: str) -> str:
    def temperature(match: re.Match) -> str:
        sign = "minus " if match.group(1) else ""
        unit = {"C": " Celsius", "F": " Fahrenheit"}.get(match.group(3) or "", "")
        degrees = "degree" if _is_one(match.group(2)) and not sign else "degrees"
        return f"{sign}{number_words(match.group(2))} {degrees}{unit}"

    text = re.sub(rf"(?:(?<![\w.])([-]))?({NUMBER})\s?°\s?([CF]\b)?", temperature, text)

    def percent(match: re.Match) -> str:
        sign = "minus " if match.group(1) else ""
        name = "percent" if match.group(3) == "%" else "per mille"
        return f"{sign}{number_words(match.group(2))} {name}"

    text = re.sub(rf"(?:(?<![\w.])(-))?({NUMBER})\s?([%‰])", percent, text)

    # Dimensions with a unit are read "by" (2 x 3 m); a bare product is read "times" (3×4).
    text = re.sub(
        rf"(?<![\w.])({NUMBER})\s*[x×]\s*({NUMBER})(?=\s?(?:{_UNIT_PATTERN})(?![A-Za-z]))", r"\1 by \2", text
    )
    text = re.sub(rf"(?<![\w.])({NUMBER})\s*[x×*]\s*({NUMBER})(?![\w])", r"\1 times \2", text)
    text = re.sub(
        rf"(?<![\w.])({NUMBER})\s?({_UNIT_PATTERN})(?![A-Za-z0-9²³])",
        lambda match: _unit_words(match.group(1), match.group(2)),
        text,
    )
    return re.sub(
        r"(?<![\d./])(\d{1,6})/(\d{1,6})(?![\d/])",
        lambda match: fraction_words(int(match.group(1)), int(match.group(2))),
        text,
    )


def _replace_numbers(text: str) -> str:
    # Ranges: 3-5, 3~5 and 3–5 are read "three to five"; a dash after a digit is never a minus sign.
    text = re.sub(r"(?<=\d)\s*[-~–]\s*(?=\d)", " to ", text)
    text = re.sub(r"~\s*(?=\d)", "about ", text)
    text = re.sub(r"(?<![\w.])-(?=\.?\d)", "minus ", text)

    # Decades: 1990s -> nineteen nineties, '90s -> nineties.
    text = re.sub(r"\b(\d{3}0)'?s\b", lambda m: plural_words(year_words(int(m.group(1)))), text)
    text = re.sub(r"(?<![\w'])'?([1-9]0)'?s\b", lambda m: plural_words(cardinal_words(int(m.group(1)))), text)
    text = re.sub(
        r"\b(\d+)(st|nd|rd|th)\b", lambda m: ordinal_words(int(m.group(1)[-MAX_CARDINAL_DIGITS:])), text
    )

    # Years after a cue word, and spans of two years: "from 2010 to 2015".
    cues = "|".join(_YEAR_CUES)
    text = re.sub(
        rf"\b({cues})\s+(1[1-9]\d\d|20\d\d)(?![\d,.]?\d)",
        lambda m: f"{m.group(1)} {year_words(int(m.group(2)))}",
        text,
        flags=re.IGNORECASE,
    )
    text = re.sub(
        r"(?<![\d,.])(1[1-9]\d\d|20\d\d) to (?=\w)", lambda m: f"{year_words(int(m.group(1)))} to ", text
    )

    # Letters glued to digits are read in order: H1N1 -> H one N one, iPhone15 -> iPhone fifteen.
    text = re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", text)
    text = re.sub(r"(?<![\d.])\.(?=\d)", "0.", text)
    return re.sub(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", lambda m: number_words(m.group(0)), text)


_SYMBOL_WORDS = {"&": " and ", "+": " plus ", "=": " equals ", "@": " at ", "%": " percent ", "‰": " per mille ",
                 "²": " squared ", "³": " cubed ", "°": " degrees ", "/": " slash ", "#": " number ",
                 "$": " dollars ", "€": " euros ", "£": " pounds ", "¥": " yen ", "×": " times ",
                 "–": ", "}  # fmt: skip
# ASCII marks espeak would read aloud by name or that carry no sound; brackets become a pause.
_SILENT_ASCII = {"[": ", ", "]": ", ", "{": ", ", "}": ", ", "(": ", ", ")": ", ", "*": " ", "_": " ", "|": ", ",
                 "\\": " ", "^": " ", "`": "'", "<": " ", ">": " ", "~": " "}  # fmt: skip


def _finish(text: str) -> str:
    text = "".join(_SYMBOL_WORDS.get(character, character) for character in text)
    text = "".join(_SILENT_ASCII.get(character, character) for character in text)
    # Accented Latin letters lose their marks (café -> cafe); espeak reads both alike.
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(character if " " <= character <= "~" else " " for character in decomposed
                   if not unicodedata.combining(character))  # fmt: skip
    dropped = [character for character in decomposed if not (" " <= character <= "~" or character.isspace())
               and not unicodedata.combining(character)]  # fmt: skip
    if dropped:
        logger.debug("Dropping characters the English voice cannot read: %r", "".join(dropped))

    text = re.sub(r"\s+", " ", ascii_text)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"^[\s,.;:!?'\"-]+", "", text).strip()
    if not re.search(r"[A-Za-z0-9]", text):
        return ""
    if not re.search(r"[.!?][\"')]*$", text):
        text = re.sub(r"[,;:\-]+$", "", text).rstrip() + "."
    return text


def normalize_en(text: str) -> str:
    """Rewrite English text into the words the piper voice speaks.

    Numbers, dates, clock times, money, percentages, temperatures, units,
    phone numbers and web addresses become words; emoticons are skipped;
    typographic punctuation becomes ASCII; a sentence without final
    punctuation gets ".".

    Returns:
        Printable ASCII only; "" when no letter or digit is left.
    """
    # Emoticons go first: NFKC would split their accents ("´" -> " ́") and hide them.
    text = remove_emoticons(text)
    text = fold_symbols(text)
    text = _replace_addresses_and_phones(text)
    text = _replace_dates(text)
    text = _replace_times(text)
    text = _replace_money(text)
    text = _replace_measures(text)
    text = _replace_numbers(text)
    return _finish(text)
