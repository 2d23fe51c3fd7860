import re

import pytest

from voice.normalize import normalize_text
from voice.normalize_zh import SPEAKABLE_MARKS, UNITS, normalize_zh, read_cardinal
from voice.zhtts_engine import CLAUSE_PAUSE_MS, split_clauses

ZH_CASES = [
    # ranges, scores, money and phone numbers seen in news scripts
    ("50%-60%", "百分之五十到百分之六十。"),
    ("3.5万-4万元", "三点五万到四万元。"),
    ("2010-2011赛季", "二零一零到二零一一赛季。"),
    ("比分是98-95", "比分是九十八比九十五。"),
    ("价格￥1,299.50元", "价格一千二百九十九点五零元。"),
    ("HK$200", "二百港元。"),
    ("手机+86 138 1234 5678", "手机加八六一三八一二三四五六七八。"),
    ("No.1", "第一。"),
    ("增长.5个点", "增长零点五个点。"),
    ("www.example.com", "达布留达布留达布留点伊艾克斯诶艾姆皮艾勒伊点西欧艾姆。"),
    # thousands separators and plain cardinals
    ("共有1,234人", "共有一千二百三十四人。"),
    ("1,234,567", "一百二十三万四千五百六十七。"),
    ("第1名", "第一名。"),
    ("10001人", "一万零一人。"),
    ("二〇二四年", "二零二四年。"),
    ("2个人", "两个人。"),
    ("12000元", "一万二千元。"),
    # decimals and negative numbers
    ("3.14", "三点一四。"),
    ("0.05", "零点零五。"),
    ("-12", "负十二。"),
    # clock times and ratios
    ("10:30", "十点三十分。"),
    ("08:05", "八点零五分。"),
    ("10:00", "十点。"),
    ("比分3:2", "比分三比二。"),
    ("１２：３０", "十二点三十分。"),
    # temperatures
    ("-5℃", "零下五摄氏度。"),
    ("25°C", "二十五摄氏度。"),
    ("温度77°F", "温度华氏七十七度。"),
    # dates
    ("2024年3月5日", "二零二四年三月五日。"),
    ("2024-03-05", "二零二四年三月五日。"),
    ("2024/3/5", "二零二四年三月五日。"),
    # percentages, fractions, ranges, currencies, units
    ("12.5%", "百分之十二点五。"),
    ("-3%", "负百分之三。"),
    ("1/4的人", "四分之一的人。"),
    ("3-5天", "三到五天。"),
    ("价格$1,200", "价格一千二百美元。"),
    ("重5kg", "重五公斤。"),
    # Latin acronyms and words, spelled
    ("GDP增长", "吉迪皮增长。"),
    ("AI技术", "诶艾技术。"),
    ("5G网络", "五吉网络。"),
    ("用OK", "用欧开。"),
    # long digit strings read digit by digit
    ("电话13812345678", "电话一三八一二三四五六七八。"),
    ("订单号20240305001", "订单号二零二四零三零五零零一。"),
    ("010-12345678", "零一零一二三四五六七八。"),
    # punctuation
    ("他说：“你好！”", "他说：你好！"),
    ("《红楼梦》很好看。", "红楼梦很好看。"),
    ("等等……", "等等…"),
    ("好!!!", "好！"),
    ("!!!", ""),
    ("🙂", ""),
    ("\u9feb好", "好。"),
]


@pytest.mark.parametrize(("text", "expected"), ZH_CASES)
def test_normalize_zh_table(text, expected):
    assert normalize_zh(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "零"),
        (10, "十"),
        (110, "一百一十"),
        (1005, "一千零五"),
        (100010000, "一亿零一万"),
        (10**12, "一万亿"),
    ],
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
        assert re.fullmatch(r"[\u4e00-\u9fa5、，；：。！？…]+", result), (category, result[:80])
        for acronym in filter(None, re.split(r"[;,|\s]+", acronyms)):
            # An acronym after a number may be a unit (2GB), read by its Chinese name.
            # The acronym alone is a sentence, so its reading loses the "。" added at its end.
            spelled = normalize_zh(acronym).rstrip("。")
            readings = {spelled, UNITS.get(acronym, spelled)}
            assert any(reading in result for reading in readings), (acronym, result[:80])


# One table per kind of written form, each read the way a Chinese newsreader reads it.
ZH_KINDS = {
    "cardinal": [("共3人", "共三人。"), ("12000元", "一万二千元。"), ("10001人", "一万零一人。"), ("第2名", "第二名。")],
    "ordinal": [("第3", "第三。"), ("3rd", "第三。"), ("21st", "第二十一。"), ("第100位", "第一百位。")],
    "decimal": [("3.14", "三点一四。"), ("0.05", "零点零五。"), ("增长.5个点", "增长零点五个点。")],
    "fraction": [("3/4", "四分之三。"), ("½", "二分之一。"), ("1½杯", "一又二分之一杯。"), ("2/3的人", "三分之二的人。")],
    "negative": [("-7", "负七。"), ("-3.5", "负三点五。"), ("下降-12", "下降负十二。")],
    "thousands": [("1,234", "一千二百三十四。"), ("1,234,567", "一百二十三万四千五百六十七。"),
                  ("共有10,000人", "共有一万人。")],
    "range": [("3-5天", "三到五天。"), ("3～5", "三到五。"), ("3 to 5", "三到五。"), ("10~20人", "十到二十人。")],
    "date": [("2024年3月5日", "二零二四年三月五日。"), ("2024-03-05", "二零二四年三月五日。"),
             ("March 5, 2024", "二零二四年三月五日。"), ("3/5/2024", "二零二四年三月五日。"),
             ("5 March 2024", "二零二四年三月五日。")],
    "decade": [("1990s", "一九九零年代。"), ("90年代", "九十年代。"), ("1990年代", "一九九零年代。"), ("'80s", "八十年代。")],
    "clock": [("10:30", "十点三十分。"), ("9:05 am", "上午九点零五分。"), ("下午3点15分", "下午三点十五分。"),
              ("24:00", "二十四点。"), ("7 pm", "下午七点。"), ("10:30:15", "十点三十分十五秒。")],
    "money": [("100元", "一百元。"), ("100万元", "一百万元。"), ("3.5亿元", "三点五亿元。"), ("$4.2 million", "四百二十万美元。"),
              ("¥1,299.50", "一千二百九十九点五零元。"), ("€30", "三十欧元。"), ("£5", "五英镑。"), ("HK$200", "二百港元。")],
    "percent": [("12.5%", "百分之十二点五。"), ("3‰", "千分之三。"), ("-0.5%", "负百分之零点五。")],
    "temperature": [("-5℃", "零下五摄氏度。"), ("25°C", "二十五摄氏度。"), ("77°F", "华氏七十七度。")],
    "unit": [("5km", "五公里。"), ("重5kg", "重五公斤。"), ("2GB", "二吉字节。"), ("10m²", "十平方米。"), ("3m³", "三立方米。"),
             ("60km/h", "六十公里每小时。"), ("3×4", "三乘四。"), ("2 x 3 m", "二乘三米。")],
    "phone": [("010-12345678", "零一零一二三四五六七八。"), ("+86 138 1234 5678", "加八六一三八一二三四五六七八。"),
              ("(555) 123-4567", "五五五一二三四五六七。")],
    "address": [
        ("www.example.com", "达布留达布留达布留点伊艾克斯诶艾姆皮艾勒伊点西欧艾姆。"),
        ("发邮件到bob@mail.cn", "发邮件到比欧比艾特艾姆诶艾艾勒点西艾恩。"),
        ("看a.cn/x1", "看诶点西艾恩斜杠艾克斯一。"),
        ("http://t.cn", "艾尺提提皮冒号斜杠斜杠提点西艾恩。"),
    ],
    "latin": [("GDP增长", "吉迪皮增长。"), ("NBA比赛", "艾恩比诶比赛。"), ("5G网络", "五吉网络。"), ("iPhone15", "艾皮艾尺欧艾恩伊十五。"),
              ("H1N1", "艾尺一艾恩一。"), ("K4", "开四。"), ("用OK", "用欧开。")],
    "punctuation": [("他说——等等……真的吗？", "他说，等等…真的吗？"), ("“你好”「世界」", "你好世界。"),
                    ("迈克尔·乔丹", "迈克尔乔丹。"), ("你好；再见：好", "你好；再见：好。"), ("好...", "好…"),
                    ("ＡＢＣ１２３", "诶比西一百二十三。")],
    "emoticon": [("(＾▽＾)好", "好。"), ("orz", ""), ("ヽ(´▽`)/开心", "开心。"), ("真棒🙂！", "真棒！")],
    "sentence end": [("没有标点", "没有标点。"), ("你好，", "你好。"), ("真的？", "真的？"), ("好！", "好！")],
}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [(kind, text, expected) for kind, rows in ZH_KINDS.items() for text, expected in rows],
)
def test_normalize_zh_kinds(kind, text, expected):
    assert normalize_text(text, "zh") == expected, kind


def test_every_kind_has_three_rows():
    for kind, rows in ZH_KINDS.items():
        assert len(rows) >= 3, kind


def test_unreadable_characters_logged(caplog):
    caplog.set_level("DEBUG", logger="voice.normalize_zh")
    assert normalize_zh("好\u9feb") == "好。"
    assert "\u9feb" in caplog.text


def test_clause_split_on_kept_marks():
    normalized = normalize_zh("第一；第二：第三……第四、第五，第六！第七？第八")
    clauses = split_clauses(normalized)
    assert [clause for clause, _ in clauses] == [
        "第一",
        "第二",
        "第三",
        "第四",
        "第五",
        "第六",
        "第七",
        "第八",
    ]
    assert [mark for _, mark in clauses] == ["；", "：", "…", "、", "，", "！", "？", "。"]


def test_clause_pause_order():
    pause = CLAUSE_PAUSE_MS
    assert pause["、"] < pause["，"] < pause["；"] < pause["。"]
    assert pause["，"] < pause["："] < pause["。"]
    assert pause["…"] == max(pause.values())
    assert set(SPEAKABLE_MARKS) <= set(pause)


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("零下-12.5℃", "零下十二点五摄氏度。"),
        ("华氏77°F", "华氏七十七度。"),
        ("9:00-17:30", "九点到十七点三十分。"),
        ("12:00～14:00", "十二点到十四点。"),
        ("9月9日－9月20日", "九月九日到九月二十日。"),
        ("下降−7", "下降负七。"),
        ("误差±3", "误差正负三。"),
        ("2.35元/股", "二点三五元每股。"),
    ],
)
def test_units_signs_and_time_ranges(written, spoken):
    assert normalize_zh(written) == spoken
