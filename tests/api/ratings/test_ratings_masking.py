"""Personal data in public comments and replies is masked before it is stored, however it is
written (separators, full-width digits, a country code, a name with spaces)."""
import pytest

from api.ratings.masking import mask_personal_data
from tests.factories import import_persons, resident_id

ANY_ID = resident_id(birth="19851231", seq="001")
ID_X_CHECKED = "11010519491231002X"                         # GB 11643's own example, ends in X


@pytest.mark.parametrize(("text", "expected"), [
    ("电话13812345678找我", "电话138****5678找我"),
    ("打 138 1234 5678 或 138-1234-5678", "打 138****5678 或 138****5678"),
    ("+86 138 1234 5678", "138****5678"),
    ("008613812345678", "138****5678"),
    ("１３８１２３４５６７８", "138****5678"),                       # full-width digits
    ("13812345678abc", "138****5678abc"),                            # letters right after
    ("座机021-63211234", "座机*******1234"),
    ("卡号6222 0202 0000 1234 567", "卡号***************4567"),
])
def test_phone_numbers_and_long_digit_runs(text, expected):
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    (f"身份证{ID_X_CHECKED}", "身份证1101**********002X"),
    (f"身份证{ID_X_CHECKED.lower()}号", "身份证1101**********002X号"),
    ("证件 1101 0519 4912 3100 2X", "证件 1101**********002X"),
    ("310101199003071234", "3101**********1234"),
    ("老证号310101900307123", "老证号3101*******7123"),             # 15-digit first-generation numbers
])
def test_identity_numbers(text, expected):
    assert mask_personal_data(text) == expected


def test_any_valid_resident_id_is_masked():
    masked = mask_personal_data(f"我是{ANY_ID}")
    assert ANY_ID not in masked and ANY_ID[6:14] not in masked           # the birth date is gone


@pytest.mark.parametrize(("text", "expected"), [
    ("王先生和李女士很耐心", "*先生和*女士很耐心"),
    ("欧阳女士帮了忙", "**女士帮了忙"),
    ("感谢张医生", "感谢*医生"),
    ("谢谢医生，谢谢老师", "谢谢医生，谢谢老师"),                  # thanks, not a Mr 谢
    ("主任医生和历史老师", "主任医生和历史老师"),
    ("我叫王小明，姓名：李雷", "我叫***，姓名：**"),
    ("Mr. Smith and Ms Lee were kind", "Mr. S**** and Ms L** were kind"),
    ("写信到 zhang.san@example.com", "写信到 z***@example.com"),
])
def test_names_and_addresses(text, expected):
    assert mask_personal_data(text) == expected


def test_masking_never_lengthens_the_text():
    text = "Mr Li, 王先生, 张三, +86 138 1234 5678, a.b@example.com, 1101 0519 4912 3100 2X; " * 6
    assert len(mask_personal_data(text, ["张三"])) <= len(text)


def test_known_names_are_masked_even_with_spaces():
    assert mask_personal_data("我是张三，张 三的事办好了", ["张三"]) == "我是*三，*三的事办好了"
    assert mask_personal_data("Li Lei came", ["Li Lei"]) == "L* L** came"
    assert mask_personal_data("三号窗口", ["三"]) == "三号窗口"        # a one-character name would mask everything


@pytest.mark.parametrize("text", ["等了20分钟", "2024-03-05 来的", "20240305 来的", "3号窗口，2个人", "订单123456",
                                  "办事很快，好评！"])
def test_ordinary_text_is_left_alone(text):
    assert mask_personal_data(text) == text


def test_the_raters_own_name_is_masked_in_the_public_comment(client, resident, venue, check_in, rate):
    r = rate(resident, check_in(resident, venue), stars=5,
             comment="我是张三，电话 138 0013 8000，身份证见档案，工作人员王先生很好")
    assert r.json["comment"] == "我是*三，电话 138****8000，身份证见档案，工作人员*先生很好"
    public = client.get(f"/v1/venues/{venue['id']}/ratings").json["items"][0]["comment"]
    assert public == r.json["comment"]


def test_the_venue_staffs_registered_names_are_masked(app, tmp_path, client, staff, resident, venue,
                                                      check_in, rate):
    (tmp_path / "staff").mkdir()
    import_persons(app, tmp_path / "staff", [
        {"id_type": "resident_id", "id_number": resident_id(seq="777"), "name": "李建国",
         "birth_date": "1990-03-07", "district": "黄浦区", "hukou": "1"}])
    r = client.post("/v1/me/real-name", headers=staff,
                    json={"name": "李建国", "id_type": "resident_id", "id_number": resident_id(seq="777")})
    assert r.status_code == 200, r.json
    r = rate(resident, check_in(resident, venue), stars=2, comment="李建国态度不好")
    assert r.json["comment"] == "**国态度不好"
    reply = client.post(f"/v1/ratings/{r.json['id']}/reply", headers=staff,
                        json={"text": "张三您好，李建国已接受批评"})
    assert reply.json["reply"]["text"] == "*三您好，**国已接受批评"
