"""Name tables for the synthetic demo city: fictional places, institutions and people.

Every name is invented; pinyin is given alongside for the English names. Pools are larger
than needed so that the seed chooses which names appear.
"""

from __future__ import annotations

CITY = ("示例市", "Demo City")
DISTRICT = ("示例区", "Demo District")

# (Chinese stem, pinyin); "街道" / "Subdistrict" is appended.
STREETS: tuple[tuple[str, str], ...] = (
    ("明湖", "Minghu"),
    ("翠岭", "Cuiling"),
    ("云溪", "Yunxi"),
    ("金沙", "Jinsha"),
    ("青榕", "Qingrong"),
    ("海澄", "Haicheng"),
    ("凤鸣", "Fengming"),
    ("长乐", "Changle"),
)

# "社区" / "Community" is appended.
COMMUNITIES: tuple[tuple[str, str], ...] = (
    ("翠湖", "Cuihu"),
    ("桂园", "Guiyuan"),
    ("荔景", "Lijing"),
    ("榕荫", "Rongyin"),
    ("碧波", "Bibo"),
    ("朝阳", "Chaoyang"),
    ("紫荆", "Zijing"),
    ("海韵", "Haiyun"),
    ("凤岭", "Fengling"),
    ("兰亭", "Lanting"),
    ("锦绣", "Jinxiu"),
    ("安乐", "Anle"),
    ("文华", "Wenhua"),
    ("星河", "Xinghe"),
    ("月湾", "Yuewan"),
    ("梧桐", "Wutong"),
    ("丹桂", "Dangui"),
    ("白鹭", "Bailu"),
    ("清泉", "Qingquan"),
    ("枫林", "Fenglin"),
    ("杏园", "Xingyuan"),
    ("银湖", "Yinhu"),
    ("竹溪", "Zhuxi"),
    ("南苑", "Nanyuan"),
    ("东湖", "Donghu"),
    ("西坪", "Xiping"),
    ("花溪", "Huaxi"),
    ("玉泉", "Yuquan"),
    ("金竹", "Jinzhu"),
    ("椰林", "Yelin"),
    ("书香", "Shuxiang"),
    ("春晖", "Chunhui"),
    ("怡景", "Yijing"),
    ("康乐", "Kangle"),
    ("嘉禾", "Jiahe"),
    ("彩虹", "Caihong"),
    ("宝华", "Baohua"),
    ("荷塘", "Hetang"),
    ("松涛", "Songtao"),
    ("云栖", "Yunqi"),
    ("柳岸", "Liu'an"),
    ("晴川", "Qingchuan"),
    ("澄湖", "Chenghu"),
    ("石榴", "Shiliu"),
)

# "路" / "Road" is appended.
ROADS: tuple[tuple[str, str], ...] = (
    ("文昌", "Wenchang"),
    ("育才", "Yucai"),
    ("和谐", "Hexie"),
    ("创业", "Chuangye"),
    ("同乐", "Tongle"),
    ("湖滨", "Hubin"),
    ("兴业", "Xingye"),
    ("前进", "Qianjin"),
    ("振华", "Zhenhua"),
    ("科创", "Kechuang"),
    ("海景", "Haijing"),
    ("翠微", "Cuiwei"),
    ("新城", "Xincheng"),
    ("怡和", "Yihe"),
    ("锦华", "Jinhua"),
    ("荔园", "Liyuan"),
)

# Psychological service agencies: brand + "心理咨询中心" or "社会工作服务中心".
AGENCY_BRANDS: tuple[tuple[str, str], ...] = (
    ("心悦", "Xinyue"),
    ("知心", "Zhixin"),
    ("暖阳", "Nuanyang"),
    ("晴空", "Qingkong"),
    ("向日葵", "Sunflower"),
    ("启明", "Qiming"),
    ("安心", "Anxin"),
    ("明心", "Mingxin"),
    ("听澜", "Tinglan"),
    ("若水", "Ruoshui"),
    ("心桥", "Xinqiao"),
    ("馨语", "Xinyu"),
    ("澄明", "Chengming"),
    ("同舟", "Tongzhou"),
    ("守望", "Shouwang"),
    ("微光", "Weiguang"),
    ("悦纳", "Yuena"),
    ("树洞", "Shudong"),
    ("青禾", "Qinghe"),
    ("拾光", "Shiguang"),
)

# Employers: prefix + industry, e.g. "华创电子有限公司".
COMPANY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("华创", "Huachuang"),
    ("星联", "Xinglian"),
    ("智航", "Zhihang"),
    ("海纳", "Haina"),
    ("云帆", "Yunfan"),
    ("恒泰", "Hengtai"),
    ("嘉讯", "Jiaxun"),
    ("鼎新", "Dingxin"),
    ("启航", "Qihang"),
    ("领越", "Lingyue"),
    ("同创", "Tongchuang"),
    ("博远", "Boyuan"),
    ("立信", "Lixin"),
    ("宏达", "Hongda"),
    ("睿思", "Ruisi"),
    ("光合", "Guanghe"),
)
INDUSTRIES: tuple[tuple[str, str], ...] = (
    ("电子", "Electronics"),
    ("科技", "Technology"),
    ("精密制造", "Precision Manufacturing"),
    ("物流", "Logistics"),
    ("生物医药", "Biopharma"),
    ("智能装备", "Intelligent Equipment"),
)

SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("黄", "Huang"),
    ("赵", "Zhao"),
    ("吴", "Wu"),
    ("周", "Zhou"),
    ("林", "Lin"),
    ("何", "He"),
    ("郭", "Guo"),
    ("罗", "Luo"),
    ("梁", "Liang"),
    ("谢", "Xie"),
    ("邓", "Deng"),
    ("许", "Xu"),
)
GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("静", "Jing"),
    ("敏", "Min"),
    ("晓燕", "Xiaoyan"),
    ("志强", "Zhiqiang"),
    ("海涛", "Haitao"),
    ("丽华", "Lihua"),
    ("思远", "Siyuan"),
    ("雨桐", "Yutong"),
    ("文博", "Wenbo"),
    ("佳慧", "Jiahui"),
    ("子涵", "Zihan"),
    ("建国", "Jianguo"),
    ("欣怡", "Xinyi"),
    ("浩然", "Haoran"),
    ("美玲", "Meiling"),
    ("俊杰", "Junjie"),
    ("晓明", "Xiaoming"),
    ("婉清", "Wanqing"),
    ("立新", "Lixin"),
    ("雅琪", "Yaqi"),
)

# Psychiatric hospitals and general hospitals of the demo city, (zh, en).
PSYCHIATRIC_HOSPITALS: tuple[tuple[str, str], ...] = (
    ("示例市康宁医院", "Demo City Kangning Hospital"),
    ("示例市精神卫生中心", "Demo City Mental Health Centre"),
)
GENERAL_HOSPITALS: tuple[tuple[str, str, str, str], ...] = (
    (
        "示例区人民医院",
        "Demo District People's Hospital",
        "精神心理科",
        "Psychiatry and Psychology",
    ),
    ("示例区中医院", "Demo District TCM Hospital", "心身医学科", "Psychosomatic Medicine"),
    ("示例区妇幼保健院", "Demo District Maternal and Child Hospital", "心理科", "Psychology"),
    (
        "示例市第六人民医院",
        "Demo City Sixth People's Hospital",
        "精神心理科",
        "Psychiatry and Psychology",
    ),
    ("示例区第二人民医院", "Demo District Second People's Hospital", "心理科", "Psychology"),
)
UNIVERSITIES: tuple[tuple[str, str], ...] = (
    ("示例大学", "Demo University"),
    ("示例科技职业学院", "Demo Polytechnic"),
)
# Special-population rooms outside the per-street justice offices, (org zh, org en, room).
SPECIAL_SETTINGS: tuple[tuple[str, str, str, str], ...] = (
    (
        "示例区看守所",
        "Demo District Detention Centre",
        "心理矫治室",
        "Psychological Correction Room",
    ),
    ("示例区信访局", "Demo District Petitions Bureau", "心理疏导室", "Counselling Room"),
    (
        "示例区救助管理站",
        "Demo District Relief Station",
        "心理服务室",
        "Psychological Service Room",
    ),
    (
        "示例区戒毒康复所",
        "Demo District Rehabilitation Centre",
        "心理矫治室",
        "Psychological Correction Room",
    ),
    (
        "示例区公安分局",
        "Demo District Public Security Bureau",
        "警察心理服务室",
        "Police Psychological Service Room",
    ),
)
VOLUNTEER_GROUPS: tuple[tuple[str, str], ...] = (
    ("示例区青年心理志愿服务队", "Demo District Youth Psychological Volunteers"),
    ("示例区巾帼心理志愿服务队", "Demo District Women's Psychological Volunteers"),
    ("示例区退休教师心理志愿服务队", "Demo District Retired Teachers' Psychological Volunteers"),
    ("示例区关爱老人心理志愿服务队", "Demo District Elderly Care Psychological Volunteers"),
)

_NUMERALS = "零一二三四五六七八九"


def chinese_ordinal(n: int) -> str:
    """Chinese numeral for 1…99, as in 第十二中学.

    >>> chinese_ordinal(12), chinese_ordinal(20), chinese_ordinal(7)
    ('十二', '二十', '七')
    """
    if not 1 <= n <= 99:
        raise ValueError(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _NUMERALS[tens] + "十")
    return head + (_NUMERALS[ones] if ones else "")


def english_ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
