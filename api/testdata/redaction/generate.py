#!/usr/bin/env python3
"""Generates the programmatic part of the redaction corpus (deterministic).

    python3 api/testdata/redaction/generate.py

writes planted_generated.jsonl and clean_generated.jsonl next to this script,
always the same bytes (fixed seed, no clock), and checks every planted ID number
(GB 11643 checksum) and bank card (Luhn) in all four corpus files.

The hand-written files (planted_handwritten.jsonl, clean_handwritten.jsonl) are
edited by hand and are not touched.
"""

import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
R = random.Random(20240305)

# ----------------------------------------------------------------------------
# Validators / builders shared with the Rust rules.

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"


def id_check(first17):
    return ID_CHECK[sum(int(a) * b for a, b in zip(first17, ID_WEIGHTS)) % 11]


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(body):
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError


def luhn_break(body):
    for d in "0123456789":
        if not luhn_ok(body + d):
            return body + d
    raise AssertionError


def digits(n):
    return "".join(R.choice("0123456789") for _ in range(n))


FW = str.maketrans("0123456789", "０１２３４５６７８９")

AREAS = [
    "110105", "110108", "120101", "130102", "140105", "150102", "210102", "220104",
    "230103", "310104", "310115", "320583", "320106", "330106", "340104", "350203",
    "360102", "370202", "410105", "420111", "430102", "430104", "440305", "440106",
    "450103", "460105", "500103", "500228", "510104", "510107", "510682", "511102",
    "520102", "530102", "610113", "620102", "630104", "640104", "650102",
]

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文辉鹏斌宇浩凯俊帅峰飞云龙海波晨旭阳欣怡婷雪琳晓梅春燕丹亮成林")
COMPOUND = ["欧阳", "司马", "诸葛", "上官", "皇甫"]

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"

MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "170", "173", "176",
    "177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189",
    "191", "193", "195", "198", "199",
]

BIG_AREAS = ["010", "020", "021", "022", "023", "024", "025", "027", "028", "029"]
SMALL_AREAS = ["0571", "0731", "0755", "0512", "0351", "0371", "0591", "0851", "0871",
               "0898", "0838", "0816", "0431", "0451", "0531", "0771", "0931", "0991"]

CARD_PREFIXES = [
    ("622202", 19), ("622848", 19), ("621700", 19), ("622588", 16), ("436742", 19),
    ("625965", 16), ("955880", 19), ("601382", 19), ("518710", 16), ("622260", 19),
    ("621226", 19), ("623058", 19), ("622700", 19), ("621799", 19), ("622609", 16),
    ("622908", 18), ("403391", 16), ("524047", 16),
]

DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com",
           "foxmail.com", "139.com", "yeah.net", "hotmail.com", "aliyun.com", "sohu.com"]
PINYIN = ["zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou",
          "xu", "sun", "ma", "zhu", "hu", "guo", "lin", "luo", "xiaoming", "wei", "fang",
          "jing", "lei", "tao", "hua", "yun", "ping", "hong"]

# ----------------------------------------------------------------------------
# PII generators: each returns the verbatim text as planted.


def name():
    if R.random() < 0.06:
        return R.choice(COMPOUND) + R.choice(GIVEN) + (R.choice(GIVEN) if R.random() < 0.5 else "")
    n = R.choice(SURNAMES) + R.choice(GIVEN)
    if R.random() < 0.6:
        n += R.choice(GIVEN)
    return n


def mobile():
    p = R.choice(MOBILE_PREFIXES)
    a, b = digits(4), digits(4)
    style = R.randrange(13)
    return [
        f"{p}{a}{b}", f"{p}{a}{b}", f"{p}{a}{b}", f"{p}{a[0]} {a[1:]}{b[0]} {b[1:]}",
        f"{p} {a} {b}", f"{p}-{a}-{b}", f"+86 {p} {a} {b}", f"+86-{p}{a}{b}",
        f"86 {p}{a}{b}", f"{p}{a}{b}".translate(FW), f"{p} {a} {b}".translate(FW),
        f"+86{p}{a}{b}", f"{p}.{a}.{b}",
    ][style]


def landline():
    if R.random() < 0.45:
        area = R.choice(BIG_AREAS)
        local = R.choice("2345678") + digits(7)
    else:
        area = R.choice(SMALL_AREAS)
        local = R.choice("2345678") + digits(R.choice([6, 7]))
    style = R.randrange(8)
    if style == 0:
        return f"{area}-{local}"
    if style == 1:
        return f"({area}){local}"
    if style == 2:
        return f"（{area}）{local}"
    if style == 3 and len(local) == 8:
        return f"{area} {local[:4]} {local[4:]}"
    if style == 4 and len(local) == 8:
        return f"{area}-{local[:4]}-{local[4:]}"
    if style == 5:
        return f"+86 {area[1:]} {local}"
    if style == 6:
        return f"{area}{local}"
    return f"{area}-{local}"


def birth(lo=1940, hi=2008):
    y = R.randint(lo, hi)
    m = R.randint(1, 12)
    d = R.randint(1, 28)
    return y, m, d


def id18():
    y, m, d = birth()
    s17 = f"{R.choice(AREAS)}{y}{m:02d}{d:02d}{digits(3)}"
    s = s17 + id_check(s17)
    style = R.randrange(6)
    if style == 0 and s.endswith("X"):
        return s[:-1] + "x"
    if style == 1:
        return f"{s[:6]} {s[6:14]} {s[14:]}"
    if style == 2:
        return s.translate(FW)
    if style == 3:
        return f"{s[:6]} {s[6:10]} {s[10:14]} {s[14:]}"
    return s


def id18_with_x():
    while True:
        y, m, d = birth()
        s17 = f"{R.choice(AREAS)}{y}{m:02d}{d:02d}{digits(3)}"
        if id_check(s17) == "X":
            return s17 + "X"


def id15():
    y, m, d = birth(1940, 1984)
    return f"{R.choice(AREAS)}{y % 100:02d}{m:02d}{d:02d}{digits(3)}"


def email():
    local = R.choice(PINYIN) + R.choice(["", ".", "_", ""]) + R.choice(PINYIN + [""]) + (
        str(R.randint(1, 2024)) if R.random() < 0.6 else "")
    if R.random() < 0.2:
        local = str(R.randint(10000, 3999999999))
    return f"{local}@{R.choice(DOMAINS)}"


def card():
    prefix, n = R.choice(CARD_PREFIXES)
    c = luhn_complete(prefix + digits(n - len(prefix) - 1))
    style = R.randrange(4)
    if style == 1:
        return " ".join(c[i:i + 4] for i in range(0, len(c), 4))
    if style == 2 and n in (16, 19):
        return "-".join(c[i:i + 4] for i in range(0, len(c), 4))
    return c


def plate():
    prov = R.choice(PROVINCES)
    letter = R.choice(PLATE_LETTERS[:12])
    kind = R.randrange(10)
    if kind < 2:  # new energy, small car
        serial = R.choice("DF") + R.choice(PLATE_LETTERS + "0123456789") + digits(4)
    elif kind == 2:  # new energy, large car
        serial = digits(5) + R.choice("DF")
    else:
        chars = [R.choice("0123456789") for _ in range(5)]
        for _ in range(R.choice([0, 0, 1, 2])):
            chars[R.randrange(5)] = R.choice(PLATE_LETTERS)
        serial = "".join(chars)
    sep = R.choice(["", "", "·", " "])
    if R.random() < 0.1:  # typed in full-width mode
        full = str.maketrans("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＳＴＵＶＷＸＹＺ")
        return f"{prov}{letter}{sep}{serial}".translate(full)
    return f"{prov}{letter}{sep}{serial}"


# ----------------------------------------------------------------------------
# Non-personal lookalikes (must survive redaction).


def amount():
    style = R.randrange(5)
    if style == 0:
        return f"{R.randint(100, 99999)}元"
    if style == 1:
        return f"{R.randint(1, 99)}{R.randint(0, 999):03d}.{R.randint(0, 99):02d}元"
    if style == 2:
        return f"{R.randint(1, 999)},{R.randint(0, 999):03d}元"
    if style == 3:
        return f"{R.randint(1, 50)}.{R.randint(1, 9)}万元"
    return f"{R.randint(10, 999)}块"


def date():
    y, m, d = R.randint(2019, 2024), R.randint(1, 12), R.randint(1, 28)
    style = R.randrange(5)
    if style == 0:
        return f"{y}年{m}月{d}日"
    if style == 1:
        return f"{y}-{m:02d}-{d:02d} {R.randint(6, 22):02d}:{R.choice(['00', '15', '30', '45'])}"
    if style == 2:
        return f"{y}/{m:02d}/{d:02d}"
    if style == 3:
        return f"{m}月{d}日{R.randint(1, 12)}点"
    return f"{y}.{m}.{d}"


def route():
    return R.choice([f"{R.randint(1, 999)}路", f"K{R.randint(1, 99)}路", "12345路",
                     f"地铁{R.randint(1, 30)}号线", f"G{R.randint(1, 9999)}次", f"D{R.randint(1000, 9999)}次",
                     f"快{R.randint(1, 50)}路", f"{R.randint(10000, 99999)}路"])


def order_no():
    """A labelled order / invoice / tracking number."""
    style = R.randrange(10)
    if style == 0:
        return "订单号" + "".join(R.choice("0123456789") for _ in range(R.choice([16, 18, 19])))
    if style == 1:
        return "运单号" + R.choice(["SF", "YT", "JDVA", "EA", "MY"]) + digits(R.choice([12, 13, 14]))
    if style == 2:
        return f"发票号码{digits(8)}"
    if style == 3:
        return f"发票代码0{digits(11)}"
    if style == 4:
        return f"工单号SC{R.randint(2019, 2024)}{digits(8)}"
    if style == 5:
        return f"快递单号7{digits(14)}"
    if style == 6:
        return f"交易流水号{R.randint(2019, 2024)}{digits(14)}"
    if style == 7:
        return f"受理编号{R.randint(2019, 2024)}{digits(6)}"
    if style == 8:
        return f"MY{R.randint(2019, 2024)}{R.randint(1, 12):02d}{R.randint(1, 28):02d}{digits(6)}"
    return f"合同编号HT{R.randint(2019, 2024)}-{digits(4)}"


def bare_code():
    """An unlabelled long number that is none of the personal kinds."""
    style = R.randrange(6)
    if style == 0:  # 18 digits, valid ID structure, wrong checksum
        y, m, d = birth()
        s17 = f"{R.choice(AREAS)}{y}{m:02d}{d:02d}{digits(3)}"
        wrong = [c for c in "0123456789X" if c != id_check(s17)]
        return s17 + R.choice(wrong)
    if style == 1:  # card-like prefix, fails Luhn
        prefix, n = R.choice(CARD_PREFIXES)
        return luhn_break(prefix + digits(n - len(prefix) - 1))
    if style == 2:  # date-prefixed order code
        return f"{R.randint(2019, 2024)}{R.randint(1, 12):02d}{R.randint(1, 28):02d}{digits(R.choice([8, 10, 11]))}"
    if style == 3:  # 11 digits not starting with a mobile prefix
        return R.choice("2456789") + digits(10)
    if style == 4:  # 15 digits with an impossible birth month
        return f"{R.choice(AREAS)}{R.randint(40, 99)}{R.randint(13, 99)}{digits(5)}"
    # 16-digit, no issuer prefix, fails Luhn
    return luhn_break(R.choice("178") + digits(14))


def room():
    return R.choice([f"{R.randint(1, 30)}栋{R.randint(1, 6)}单元{R.randint(1, 33)}{R.randint(1, 4):02d}室",
                     f"{R.randint(1, 20)}号楼{R.randint(101, 2804)}",
                     f"{R.randint(1, 999)}号", f"{R.randint(1, 5)}-{R.randint(1, 6)}-{R.randint(101, 1802)}"])


def statute():
    return R.choice(["《劳动合同法》第八十二条", "《消费者权益保护法》第五十五条", "《物业管理条例》第三十五条",
                     f"国办发〔{R.randint(2015, 2024)}〕{R.randint(1, 99)}号", f"第{R.randint(1, 200)}条",
                     "《噪声污染防治法》第六十五条", f"川府发〔{R.randint(2015, 2024)}〕{R.randint(1, 60)}号"])


def hotline():
    return R.choice(["12345", "110", "119", "120", "12315", "12369", "95598", "12333", "12320",
                     "12306", "10086", "96111", "400-820-8820"])


def quantity():
    return R.choice([f"{R.randint(2, 800)}户", f"{R.randint(2, 3000)}人", f"{R.randint(1, 90)}天",
                     f"{R.randint(30, 120)}分贝", f"{R.randint(1, 48)}小时", f"{R.randint(1, 500)}平方米",
                     f"{R.randint(2, 60)}个月", f"{R.randint(10, 99)}%", f"{R.randint(1, 20)}公里"])


def postcode():
    return f"邮编{R.choice(['610041', '100010', '410005', '518000', '200120', '430070', '650031'])}"


# ----------------------------------------------------------------------------
# Message bodies.

TOPICS = [
    "小区楼下的烧烤摊每晚营业到凌晨两点，油烟和噪音严重扰民",
    "单位拖欠我们{amount}工资已经{quantity}，劳动监察大队一直没有处理结果",
    "孩子所在的学校违规收取补课费{amount}，家长们敢怒不敢言",
    "在市人民医院看病，{date}的检查费被重复收取{amount}",
    "{route}公交车经常不按时发车，早高峰要等四十分钟",
    "小区{room}楼上长期漏水，物业和开发商互相推诿",
    "附近工地夜间施工噪音超过{quantity}，多次拨打{hotline}没有效果",
    "我们村的道路年久失修，雨天泥泞，{quantity}村民出行困难",
    "开发商延期交房已超过{quantity}，按合同应支付违约金",
    "物业擅自上调物业费，每平方米涨了{amount}",
    "电动车充电桩不够用，{quantity}业主只有十几个充电位",
    "幼儿园学位紧张，孩子没有学位，教育局说要等摇号",
    "路口红绿灯配时不合理，{date}又发生了一起剐蹭事故",
    "网购商品质量问题，{order}，商家拒绝退款",
    "社保转移手续办了{quantity}还没完成，社保局说在走流程",
    "小区垃圾清运不及时，夏天臭气熏天",
    "燃气公司上门安检强制推销报警器，收费{amount}",
    "自来水水质发黄，已经持续{quantity}",
    "拆迁补偿款迟迟不到位，补偿协议依据{statute}",
    "养老院护理不到位，老人生病没有及时送医",
    "公立医院专家号全被黄牛抢走，挂号费被炒到{amount}",
    "出租车拒载、绕路问题严重，{date}在火车站打车被拒",
    "申请的公租房排队{quantity}，一直没有消息",
    "楼道里堆满杂物，存在消防隐患，曾拨打{hotline}",
    "培训机构突然关门，预交的学费{amount}无法退还",
    "停车场收费不透明，停{quantity}收了{amount}",
    "低保审核不公开，符合条件的家庭没有评上",
    "快递驿站乱收费，取件要交{amount}",
    "冬季供暖温度不达标，室内只有十几度",
    "农村合作医疗报销比例太低，住院花了{amount}只报了一半",
]

CLOSINGS = ["请相关部门尽快处理。", "恳请领导关注。", "希望尽快给个答复。", "谢谢！", "请督促落实。",
            "盼复。", "希望早日解决。", "请予以核查。", ""]


def fill(template):
    out = template
    for key, fn in [("{amount}", amount), ("{quantity}", quantity), ("{date}", date),
                    ("{route}", route), ("{room}", room), ("{hotline}", hotline),
                    ("{order}", order_no), ("{statute}", statute)]:
        while key in out:
            val = fn()
            out = out.replace(key, val, 1)
            fill.kept.append(val)
    return out


fill.kept = []

PII_PHRASES = {
    "mobile": ["联系电话{v}", "手机{v}", "我的手机号是{v}", "电话：{v}", "手机号码 {v}", "（{v}）",
               "有事请打{v}", "微信同号{v}", "联系方式：{v}", "{v}"],
    "landline": ["座机{v}", "家里电话{v}", "联系电话：{v}", "办公室电话{v}", "固话 {v}", "电话{v}"],
    "id_number": ["身份证号{v}", "身份证：{v}", "证件号码{v}", "身份证号码是{v}", "本人{v}", "（身份证{v}）"],
    "email": ["邮箱{v}", "邮箱：{v}", "电子邮件 {v}", "可发邮件至{v}", "E-mail: {v}"],
    "bank_card": ["工资卡号{v}", "银行卡号：{v}", "收款账号 {v}", "卡号{v}", "退款请打到{v}", "账户{v}",
                  "我的借记卡{v}"],
    "plate": ["车牌号{v}", "我的车{v}", "车牌{v}", "一辆{v}的小车", "肇事车辆{v}", "车号{v}"],
}


def planted_message():
    fill.kept = []
    citizen = name()
    body = fill(R.choice(TOPICS))
    kinds = R.sample(["mobile", "mobile", "landline", "id_number", "email", "bank_card", "plate"],
                     R.choice([1, 1, 2, 2, 3]))
    pii = []
    parts = []
    intro = R.choice(["我是{n}，", "本人{n}，", "反映人：{n}。", "{n}反映：", "", "市长您好，我叫{n}。",
                      "尊敬的领导：我是居民{n}，"])
    if intro:
        intro = intro.format(n=citizen)
        pii.append({"name": citizen})
    for kind in kinds:
        if kind == "mobile":
            v = mobile()
        elif kind == "landline":
            v = landline()
        elif kind == "id_number":
            v = R.choice([id18, id18, id18, id18_with_x, id15])()
        elif kind == "email":
            v = email()
        elif kind == "bank_card":
            v = card()
        else:
            v = plate()
        parts.append(R.choice(PII_PHRASES[kind]).format(v=v))
        pii.append({kind: v})
    extra_keep = []
    if R.random() < 0.4:
        extra = R.choice([order_no, amount, date, route, postcode])()
        extra_keep.append(extra)
        body += f"，{extra}"
    sign = ""
    if R.random() < 0.3:
        surname = citizen[:2] if citizen[:2] in COMPOUND and len(citizen) >= 3 else citizen[0]
        form = surname + R.choice(["先生", "女士"])
        sign = f"（{form}）"
        pii.append({"name": form})
    text = intro + body + "。" + "，".join(parts) + "。" + sign + R.choice(CLOSINGS)
    keep = [k for k in fill.kept + extra_keep if len(k) >= 3]
    msg = {"text": text, "names": [citizen], "pii": pii}
    if keep:
        msg["keep"] = keep
    return msg


CLEAN_EXTRAS = [
    lambda: f"{order_no()}",
    lambda: f"编号{bare_code()}",
    lambda: f"参考号 {bare_code()}",
    lambda: f"系统显示的代码为{bare_code()}",
    lambda: f"共计{amount()}",
    lambda: f"时间是{date()}",
    lambda: f"乘坐{route()}",
    lambda: f"热线{hotline()}",
    lambda: f"地址{room()}",
    lambda: postcode(),
    lambda: f"依据{statute()}",
    lambda: f"涉及{quantity()}",
    lambda: f"{R.randint(2015, 2024)}年以来",
    lambda: f"物业的{R.choice(SURNAMES)}{R.choice(['经理', '师傅', '主任', '先生', '女士'])}说会处理",
    lambda: f"单据上印着{bare_code()}",
]


def clean_message():
    fill.kept = []
    body = fill(R.choice(TOPICS))
    extras = [R.choice(CLEAN_EXTRAS)() for _ in range(R.choice([1, 2, 2, 3]))]
    text = R.choice(["", "市长您好，", "尊敬的领导：", "反映问题：", "匿名反映："]) + body + "，" + "，".join(
        extras) + "。" + R.choice(CLOSINGS)
    return {"text": text, "names": []}


def check_file(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            msg = json.loads(line)
            for item in msg.get("pii", []):
                (kind, value), = item.items()
                assert value in msg["text"], (path, n, value)
                ds = "".join(c for c in value.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
                             if c.isdigit() or c in "Xx").upper()
                if kind == "id_number" and len(ds) == 18:
                    assert id_check(ds[:17]) == ds[17], (path, n, value)
                if kind == "bank_card":
                    assert luhn_ok(ds), (path, n, value)


def write(path, messages):
    with open(path, "w", encoding="utf-8") as f:
        for m in messages:
            f.write(json.dumps(m, ensure_ascii=False) + "\n")


def main():
    planted = [planted_message() for _ in range(180)]
    clean = [clean_message() for _ in range(180)]
    write(os.path.join(HERE, "planted_generated.jsonl"), planted)
    write(os.path.join(HERE, "clean_generated.jsonl"), clean)
    for name_ in ["planted_handwritten.jsonl", "planted_generated.jsonl",
                  "clean_handwritten.jsonl", "clean_generated.jsonl"]:
        check_file(os.path.join(HERE, name_))
    print(f"wrote {len(planted)} planted and {len(clean)} clean messages; all checksums valid")


if __name__ == "__main__":
    main()
