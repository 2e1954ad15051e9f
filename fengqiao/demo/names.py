"""Word lists for the demo: people's names, phone prefixes and the names of places."""

from __future__ import annotations

import random


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# The most common surnames, roughly in order of frequency (weights follow the order).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜叶"
    "程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金贺"
)
# Given names: one character, or two drawn from a first and a second position.
GIVEN_ONE = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华兰萍斌鹏飞辉浩凯峰波俊海燕琳雪梅婷慧颖晨阳欣怡"
)
GIVEN_FIRST = "建志文国春海小明晓红秀丽德永宏新俊子思雨梓浩嘉佳欣一雅湘益振卫玉金"
GIVEN_SECOND = "华明军平强伟芳敏杰涛超霞峰辉鹏斌林波婷颖琳涵轩萱然远博宇航洋晨怡兰英红勇"
MOBILE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 175 176 177 180 181 182 183 185 186 187 188 189 191 198 199"
)


def person(rng: random.Random) -> str:
    """Return a plausible Chinese full name."""
    weights = [1 / (i + 4) for i in range(len(SURNAMES))]
    surname = rng.choices(SURNAMES, weights=weights)[0]
    if rng.random() < 0.3:
        return surname + rng.choice(GIVEN_ONE)
    return surname + rng.choice(GIVEN_FIRST) + rng.choice(GIVEN_SECOND)


def mobile(rng: random.Random) -> str:
    """Return a well-formed mainland mobile number."""
    return rng.choice(MOBILE_PREFIXES) + "".join(str(rng.randrange(10)) for _i in range(8))


# Auspicious two-character shop names, the backbone of a street's signboards.
SHOP_WORDS = _words(
    "鑫源 福满 金鼎 兴旺 红运 顺达 佳和 恒泰 万福 盛世 利民 惠民 春晖 阳光 明珠 锦绣 宏图 瑞丰 "
    "祥和 永兴 德顺 聚福 好运 新星 天成 博雅 雅居 隆鑫 嘉禾 和美 湘江 星城 麓山 桐林 尖山 雷锋 "
    "金牛 百佳 家乐 邻里 旺角 惠万家 四季 友谊 如意 长青 欣欣 东方 北辰 望城 湘源 芙蓉 楚韵"
)

# Templates by place kind; {w} an auspicious word, {s} a surname, {c} the community's short
# name, {r} a street. Each kind draws until the name is new in the station.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "small_shop": (
        "{w}便利店",
        "{w}超市",
        "{s}记百货",
        "{w}五金店",
        "{w}烟酒商行",
        "{w}水果店",
        "{w}粮油店",
        "{s}氏日杂店",
        "{c}{w}副食店",
        "{w}母婴店",
        "{w}大药房",
    ),
    "small_hotel": (
        "{w}宾馆",
        "{w}旅社",
        "{c}{w}招待所",
        "{w}民宿",
        "{w}公寓酒店",
        "{s}家客栈",
        "{r}{w}宾馆",
    ),
    "small_school": (
        "{w}幼儿园",
        "{c}{w}幼儿园",
        "{w}托育中心",
        "{w}艺术培训学校",
        "{w}课后托管中心",
    ),
    "small_clinic": (
        "{s}氏诊所",
        "{w}口腔诊所",
        "{c}卫生室",
        "{w}中医诊所",
        "{s}{w}推拿诊所",
    ),
    "internet_cafe": ("{w}网吧", "{w}网咖", "{w}电竞馆"),
    "small_eatery": (
        "{s}记米粉店",
        "{w}面馆",
        "{s}家饺子馆",
        "{w}烧烤",
        "{w}湘菜馆",
        "{c}{w}快餐",
        "{w}蒸菜馆",
        "{w}奶茶店",
        "{s}记臭豆腐",
        "{w}小龙虾",
        "{r}{s}记粉面",
    ),
    "small_karaoke": ("{w}歌舞厅", "{w}音乐茶座"),
    "beauty_bath": ("{w}足浴", "{w}沐足城", "{w}美容美发", "{w}养生会所"),
    "small_workshop": (
        "{w}五金加工厂",
        "{w}服装加工厂",
        "{w}木材加工厂",
        "{w}食品加工坊",
        "{w}汽修厂",
        "{w}铝合金门窗加工",
    ),
    "hotel": ("{brand}（{c}店）", "{brand}（{r}店）"),
    "locksmith": ("{s}师傅开锁", "{w}开锁换锁服务部"),
    "engraving_printing": ("{w}图文快印", "{w}刻章印刷"),
    "scrap_metal": ("{w}废品回收站", "{w}再生资源回收站"),
    "used_car": ("{w}二手车行",),
    "vehicle_dismantling": ("长沙{w}报废汽车回收拆解有限公司",),
    "pawnshop": ("{w}典当行",),
    "gold_shop": ("{brand}（{r}店）",),
    "used_phone": ("{w}手机维修回收", "{w}数码通讯"),
    "mall": ("{w}购物广场", "{c}{w}商业中心", "步步高超市（{r}店）"),
    "ktv": ("{brand}（{r}店）",),
    "bar": ("{w}酒吧", "{w}清吧"),
    "chess_room": ("{w}棋牌室", "{w}茶馆棋牌", "{c}老年棋牌活动室"),
    "school": ("{c}小学", "长沙高新区{c}中学", "{c}实验小学", "{w}学校"),
    "hospital": ("雷锋街道社区卫生服务中心", "长沙高新区人民医院雷锋院区", "{w}医院"),
    "enterprise": ("{city}{w}{trade}有限公司",),
    "industrial_park": ("雷锋智造产业园", "长沙高新区{c}工业园"),
    "compound": ("{estate}{suffix}",),
    "rental_house": ("{c}{n}号出租屋",),
    "transit_station": ("{r}公交首末站", "{c}地铁站", "雷锋汽车站"),
    "construction_site": ("{contractor}{c}{project}项目工地",),
}

BRANDS: dict[str, tuple[str, ...]] = {
    "hotel": (
        "如家酒店",
        "汉庭酒店",
        "7天连锁酒店",
        "锦江之星",
        "维也纳酒店",
        "城市便捷酒店",
        "格林豪泰",
        "尚客优酒店",
        "麗枫酒店",
        "全季酒店",
        "宜必思酒店",
        "布丁酒店",
        "丽呈酒店",
        "亚朵酒店",
    ),
    "gold_shop": ("周大福", "老凤祥", "中国黄金", "周生生", "六福珠宝"),
    "ktv": ("星聚会KTV", "麦乐迪KTV", "唱吧麦颂KTV", "好乐迪KTV", "纯K"),
}
ESTATES = _words(
    "恒大 保利 碧桂园 中建 麓谷 和润 尖山 金茂 万科 融创 山水 湘江 星城 桐林 梅溪 岳华 "
    "学士 鸿星 龙湖 中海 新城 绿地 北辰 金科 雷锋 枫林 望岳 麓景"
)
ESTATE_SUFFIXES = ("花园", "家园", "苑", "小区", "府", "公馆", "佳园", "华庭", "雅苑", "安置小区")
TRADES = (
    "科技",
    "电子",
    "机械",
    "新材料",
    "生物医药",
    "物流",
    "食品",
    "建材",
    "包装",
    "智能装备",
    "软件",
    "环保",
    "光电",
    "汽车零部件",
)
CITIES = ("湖南", "长沙", "长沙高新区")
CONTRACTORS = ("中建五局", "湖南建工", "中铁五局", "长沙城建", "湖南路桥")
PROJECTS = ("安置房", "道路提质改造", "学校新建", "片区开发", "管网改造", "商住楼")
