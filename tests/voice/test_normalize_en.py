import pytest

from voice import piper_engine
from voice.normalize import normalize_text
from voice.normalize_en import cardinal_words, normalize_en, ordinal_words, year_words

EN_CASES = [
    ("It costs $1,200.", "It costs one thousand two hundred dollars."),
    ("Only $3.50 today", "Only three dollars fifty cents today."),
    ("$1 each", "one dollar each."),
    ("a $4.2 million park", "a four point two million dollars park."),
    ("It is -5°C outside.", "It is minus five degrees Celsius outside."),
    ("25℃ now", "twenty-five degrees Celsius now."),
    ("It is 77°F", "It is seventy-seven degrees Fahrenheit."),
    ("3.5% at 10:30", "three point five percent at ten thirty."),
]


@pytest.mark.parametrize(("text", "expected"), EN_CASES)
def test_normalize_en_table(text, expected):
    assert normalize_en(text) == expected


# One table per kind of written form, each read the way an American newsreader reads it.
EN_KINDS = {
    "cardinal": [("7 cats", "seven cats."), ("12000 fans", "twelve thousand fans."), ("101", "one hundred one.")],
    "ordinal": [("the 3rd", "the third."), ("21st", "twenty-first."), ("112th", "one hundred twelfth."),
                ("第3名", "third.")],
    "decimal": [("3.14", "three point one four."), ("0.05", "zero point zero five."), (".5", "zero point five.")],
    "fraction": [("3/4", "three quarters."), ("½", "one half."), ("1½ cups", "one and one half cups."),
                 ("2/3", "two thirds.")],
    "negative": [("-7", "minus seven."), ("-3.5", "minus three point five."), ("fell to -12", "fell to minus twelve.")],
    "thousands": [("1,234", "one thousand two hundred thirty-four."),
                  ("1,234,567", "one million two hundred thirty-four thousand five hundred sixty-seven."),
                  ("10,000 people", "ten thousand people.")],
    "range": [("3-5 days", "three to five days."), ("3～5", "three to five."), ("3 to 5", "three to five."),
              ("10~20", "ten to twenty.")],
    "date": [("On 2024-03-05", "On March fifth, twenty twenty-four."), ("March 5, 2024", "March fifth, twenty twenty-four."),
             ("3/5/2024", "March fifth, twenty twenty-four."), ("2024年3月5日", "March fifth, twenty twenty-four."),
             ("5 March 2024", "the fifth of March, twenty twenty-four.")],
    "year": [("in 1990", "in nineteen ninety."), ("since 2005", "since two thousand five."),
             ("born in 1905", "born in nineteen oh five."), ("from 2010 to 2015", "from twenty ten to twenty fifteen.")],
    "decade": [("the 1990s", "the nineteen nineties."), ("in the '90s", "in the nineties."),
               ("90年代", "nineties."), ("the 2000s", "the two thousands.")],
    "clock": [("10:30", "ten thirty."), ("9:05 am", "nine oh five AM."), ("下午3点15分", "three fifteen PM."),
              ("24:00", "twenty-four hundred."), ("10:00", "ten o'clock."), ("7 pm", "seven PM.")],
    "money": [("100元", "one hundred yuan."), ("12万元", "one hundred twenty thousand yuan."),
              ("3.5亿元", "three hundred fifty million yuan."), ("$4.2 million", "four point two million dollars."),
              ("¥1,299.50", "one thousand two hundred ninety-nine point five zero yen."), ("€30.01", "thirty euros one cent."),
              ("£5.99", "five pounds ninety-nine pence."), ("HK$200", "two hundred Hong Kong dollars.")],
    "percent": [("12.5%", "twelve point five percent."), ("3‰", "three per mille."), ("-0.5%", "minus zero point five percent.")],
    "temperature": [("-5℃", "minus five degrees Celsius."), ("25°C", "twenty-five degrees Celsius."),
                    ("77°F", "seventy-seven degrees Fahrenheit.")],
    "unit": [("5 km", "five kilometers."), ("2GB", "two gigabytes."), ("1 kg", "one kilogram."), ("10 m²", "ten square meters."),
             ("3 m³", "three cubic meters."), ("60 km/h", "sixty kilometers per hour."), ("3×4", "three times four."),
             ("2 x 3 m", "two by three meters.")],
    "phone": [("Call (555) 123-4567", "Call five five five, one two three, four five six seven."),
              ("+86 138 1234 5678", "plus eight six, one three eight, one two three four, five six seven eight."),
              ("010-12345678", "zero one zero, one two three four five six seven eight.")],
    "address": [("www.example.com", "w w w dot example dot com."),
                ("mail bob.smith@mail.example.org", "mail bob dot smith at mail dot example dot org."),
                ("see https://example.com/news", "see h t t p s colon slash slash example dot com slash news.")],
    "latin": [("GDP and NBA", "GDP and NBA."), ("5G", "five G."), ("iPhone15", "iPhone fifteen."), ("H1N1", "H one N one."),
              ("K4", "K four.")],
    "punctuation": [("He said — “wait…”", 'He said, "wait..."'), ("Café naïve", "Cafe naive."),
                    ("ＡＢＣ１２３", "ABC one hundred twenty-three."), ("Jean·Paul", "Jean Paul.")],
    "emoticon": [("Great (＾▽＾)", "Great."), ("orz", ""), ("Yay ヽ(´▽`)/ done", "Yay done."), ("Nice 🙂!", "Nice!")],
    "sentence end": [("No punctuation", "No punctuation."), ("A question?", "A question?"), ("Wow!", "Wow!"),
                     ("Trailing comma,", "Trailing comma.")],
}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [(kind, text, expected) for kind, rows in EN_KINDS.items() for text, expected in rows],
)
def test_normalize_en_kinds(kind, text, expected):
    assert normalize_text(text, "en") == expected, kind


def test_every_kind_has_three_rows():
    for kind, rows in EN_KINDS.items():
        assert len(rows) >= 3, kind


@pytest.mark.parametrize(
    ("value", "cardinal", "ordinal"),
    [(0, "zero", "zeroth"), (12, "twelve", "twelfth"), (40, "forty", "fortieth"), (1001, "one thousand one", "one thousand first"),
     (2_000_000, "two million", "two millionth")],
)  # fmt: skip
def test_cardinal_and_ordinal_words(value, cardinal, ordinal):
    assert cardinal_words(value) == cardinal
    assert ordinal_words(value) == ordinal


@pytest.mark.parametrize(
    ("year", "expected"),
    [(1990, "nineteen ninety"), (1900, "nineteen hundred"), (2000, "two thousand"), (2024, "twenty twenty-four"), (999, "nine hundred ninety-nine")],
)  # fmt: skip
def test_year_words(year, expected):
    assert year_words(year) == expected


def test_piper_engine_still_exports_normalize_en():
    assert piper_engine.normalize_en is normalize_en


def test_unknown_language_rejected():
    with pytest.raises(ValueError, match="invalid language 'fr'"):
        normalize_text("bonjour", "fr")


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("The score was 3:2.", "The score was three to two."),
        ("The rate is 7.1:1.", "The rate is seven point one to one."),
        ("Meet at 10:30.", "Meet at ten thirty."),
        ("Call 555-1234 now.", "Call five five five, one two three four now."),
    ],
)
def test_ratios_and_local_phone_numbers(written, spoken):
    assert normalize_text(written, "en") == spoken
