import pytest

from corpuskit.core.chain import run_stages
from corpuskit.core.stage import Rejection
from corpuskit.stages.redact_pii import RedactPii, find_pii, id18_valid, luhn_valid

# the example of GB 11643-1999 itself, and Visa's well-known test number
ID_STD = "11010519491231002X"
VISA = "4111111111111111"


def kinds(text):
    return [(text[s:e], k) for s, e, k in find_pii(text)]


def redact(text, **kw):
    return RedactPii(**kw).process({"text": text})


def test_id_checksum_and_luhn():
    assert id18_valid(ID_STD)
    assert not id18_valid(ID_STD[:17] + "3")  # wrong check digit
    assert not id18_valid("99" + ID_STD[2:])  # no such province
    assert luhn_valid(VISA) and not luhn_valid(VISA[:-1] + "2")


@pytest.mark.parametrize("text,found", [
    ("联系邮箱：zhang.san@example.com。", [("zhang.san@example.com", "EMAIL")]),
    ("手机13812345678联系", [("13812345678", "PHONE")]),
    ("电话：138-1234-5678；", [("138-1234-5678", "PHONE")]),
    ("请拨+86 138 1234 5678", [("+86 138 1234 5678", "PHONE")]),
    ("北京办公室010-88886666转", [("010-88886666", "PHONE")]),
    ("深圳(0755) 8888 6666", [("(0755) 8888 6666", "PHONE")]),
    ("香港辦事處+852 2345 6789。", [("+852 2345 6789", "PHONE")]),
    ("電話：2345 6789", [("2345 6789", "PHONE")]),
    ("台北(02) 2345-6789", [("(02) 2345-6789", "PHONE")]),
    ("手機0912-345-678", [("0912-345-678", "PHONE")]),
    ("Call +1 (415) 555-2671 today", [("+1 (415) 555-2671", "PHONE")]),
    ("Call (415) 555-2671 today", [("(415) 555-2671", "PHONE")]),
    ("London +44 20 7946 0958.", [("+44 20 7946 0958", "PHONE")]),
    (f"身份证号{ID_STD}，", [(ID_STD, "ID_NUMBER")]),
    ("旧身份证110105491231002号", [("110105491231002", "ID_NUMBER")]),
    (f"卡号{VISA}", [(VISA, "BANK_CARD")]),
    ("卡号 4111 1111 1111 1111 请核对", [("4111 1111 1111 1111", "BANK_CARD")]),
    ("登录IP为192.168.1.23，", [("192.168.1.23", "IP")]),
    ("服务器2001:db8:85a3::8a2e:370:7334上", [("2001:db8:85a3::8a2e:370:7334", "IP")]),
    ("fe80:0:0:0:202:b3ff:fe1e:8329 is up", [("fe80:0:0:0:202:b3ff:fe1e:8329", "IP")]),
])
def test_finds_each_kind_with_exact_boundaries(text, found):
    assert kinds(text) == found


@pytest.mark.parametrize("text", [
    "会议于2024-03-15 14:30:00开始，2024年3月15日。",
    "时间戳1700000000000毫秒",
    "价格：¥13,800.00，折后12999.99元",
    "订单号SF1381234567890，快递单号YT13812345678",
    "ISBN 978-7-115-12345-6，ISBN 9787115123456",
    "升级到版本1.2.3.4，version 10.0.0.1，v2.3.4.5",
    ID_STD[:17] + "3",                         # fails the ID checksum
    "卡号4111111111111112",                   # fails Luhn
    "报警110，市民热线12345，工行客服95588，10086",
    "客服热线400-820-8820，800-810-8888，1-800-555-0199 toll free",
    "比分3:2，比例16:9，12:30:45",
    "MAC 00:1A:2B:3C:4D:5E",
    "The result will be::\n\n    code",  # reStructuredText, not an IPv6 address
    "dead::beef",
    "圆周率3.14159265358979，e=2.718281828459045",
    "编号A13812345678B",
    "email me at foo@bar (no domain)",
    "第13812345678.5个",
])
def test_look_alikes_are_left_alone(text):
    assert find_pii(text) == []


def test_redact_keeps_everything_around_the_number():
    r = redact(f"张三，手机13812345678，身份证{ID_STD}，邮箱zs@qq.com。")
    assert r["text"] == "张三，手机<PHONE>，身份证<ID_NUMBER>，邮箱<EMAIL>。"
    assert r["meta"]["pii"] == {"email": 1, "phone": 1, "id_number": 1}


def test_placeholder_format_and_kinds():
    r = redact("IP 10.0.0.1 mail a@b.cn", placeholder="[{kind}]", kinds="IP")
    assert r["text"] == "IP [IP] mail a@b.cn"
    with pytest.raises(ValueError):
        RedactPii(kinds="NAME")
    with pytest.raises(ValueError):
        RedactPii(placeholder="<{what}>")
    with pytest.raises(ValueError):
        RedactPii(mode="erase")


def test_drop_and_annotate_modes():
    text = "电话13812345678，电话13912345678"
    assert redact(text, mode="drop") == Rejection("contains_pii", "phone=2")
    r = redact(text, mode="annotate")
    assert r["text"] == text and r["meta"]["pii"] == {"phone": 2}
    clean = {"text": "没有个人信息的文本。"}
    assert RedactPii().process(dict(clean)) == clean


def test_counts_reach_the_stats():
    recs = [{"text": "a@b.com 13812345678"}, {"text": "nothing"}, {"text": "10.1.2.3"}]
    kept, rejected, stats = run_stages([RedactPii()], recs)
    assert len(kept) == 3 and not rejected
    assert stats[0].as_dict()["extra"]["counts"] == {"EMAIL": 1, "IP": 1, "PHONE": 1}


def test_cli_pipe(run_cli):
    r = run_cli(["redact-pii"], input='{"text": "邮箱 li@example.org"}\n'.encode())
    assert r.returncode == 0, r.stderr
    assert "邮箱 <EMAIL>" in r.stdout.decode()


def test_id_shaped_numbers_are_never_cards_but_19_digit_unionpay_is():
    # 18 digits shaped like an ID (province 62, a real date) with a wrong check digit that
    # happens to pass Luhn: a mistyped ID, not a card
    body = "62220219900101123"
    fake = next(body + d for d in "0123456789" if luhn_valid(body + d) and not id18_valid(body + d))
    assert kinds(f"编号{fake}。") == []
    card = next("622202199001011234" + d for d in "0123456789" if luhn_valid("622202199001011234" + d))
    assert kinds(f"卡号{card}。") == [(card, "BANK_CARD")]


def test_counts_add_up_across_shards():
    from corpuskit.core.chain import StageStats

    total = StageStats("redact-pii")
    for _ in range(2):
        _, _, stats = run_stages([RedactPii()], [{"text": "a@b.com"}])
        total.merge(stats[0].as_dict())
    assert total.as_dict()["extra"]["counts"] == {"EMAIL": 2}


@pytest.mark.parametrize("text,out", [
    ("手机：１３８１２３４５６７８，欢迎来电", "手机：<PHONE>，欢迎来电"),
    ("电话：＋８６　１３８　１２３４　５６７８。", "电话：<PHONE>。"),
    ("电话：０１０－８８８８６６６６", "电话：<PHONE>"),
    ("身份证号码：１１０１０５１９４９１２３１００２Ｘ。", "身份证号码：<ID_NUMBER>。"),
    ("身份证号码：11010519491231002Ｘ。", "身份证号码：<ID_NUMBER>。"),
    ("邮箱：ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ，谢谢", "邮箱：<EMAIL>，谢谢"),
    ("卡号６２２２０２１２３４５６７８９０１２８", "卡号<BANK_CARD>"),
])
def test_full_width_digits_and_letters_are_read_as_ascii(text, out):
    # Chinese IMEs type full-width digits: a full-width phone number is still a phone number
    assert redact(text)["text"] == out


def test_full_width_look_alikes_and_clause_breaks_stay():
    for text in ("金额１２３４５６７８９０元", "日期２０２４０１０１", "身份证：１１０１０５１９４９１２３１００２１"):
        assert redact(text)["text"] == text
    # a full-width comma is a clause break, not a thousands separator
    assert redact("共１２３，１３８１２３４５６７８")["text"] == "共１２３，<PHONE>"


def test_a_19_digit_card_in_five_groups_is_found():
    # UnionPay prints its 19-digit cards 4-4-4-4-3
    card = "6222021234567890128"
    assert luhn_valid(card)
    for sep in (" ", "-"):
        grouped = sep.join([card[0:4], card[4:8], card[8:12], card[12:16], card[16:]])
        assert kinds(f"银行卡号：{grouped}，请核对") == [(grouped, "BANK_CARD")]
    # a 16-digit card followed by another number is still the 16-digit card
    assert kinds(f"卡号{VISA[:4]} {VISA[4:8]} {VISA[8:12]} {VISA[12:]} 12元") == [
        (f"{VISA[:4]} {VISA[4:8]} {VISA[8:12]} {VISA[12:]}", "BANK_CARD")]
