"""The demo's dispute scenarios on paper: types, amounts, seasons and the words of each case.

Placeholders: {a} the applicant, {b} the respondent, {org} an organisation, {addr} an address,
{street} a street, {amount} an amount in yuan, {n} the people involved, {months} months of
wages, {due} a due date. Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    """One kind of dispute: its type, how often, how big, and how it is told and settled."""

    key: str
    type_code: str
    weight: float
    narratives: tuple[str, ...]
    terms: str
    item: str
    org: tuple[str, ...] = ()  # respondent is an organisation named by one of these
    amount: tuple[int, int] = (0, 0)
    amount_share: float = 0.0  # how often an amount is involved at all
    people: tuple[int, int] = (2, 2)
    group_share: float = 0.0  # how often it is a group dispute (一般群体)
    special_share: float = 0.0
    violence_share: float = 0.0
    difficult_share: float = 0.04
    village_only: bool = False
    summer: float = 1.0  # June to August
    festival: float = 1.0  # December and January, before the Spring Festival
    violent: bool = False  # threat words in its narratives are real, not a figure of speech


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "leak",
        "0201",
        11,
        (
            "{a}反映，楼上住户{b}家卫生间防水层老化，持续向其家中渗水，天花板霉变脱落，"
            "多次上门沟通未果，双方在楼道发生争吵。",
            "{a}与楼上邻居{b}因空调冷凝水、阳台排水直接滴落到其家窗台发生矛盾，双方互不相让，"
            "请求社区调解。",
            "{addr}{a}家与{b}家共用的下水管道堵塞，污水倒灌进{a}家厨房，双方对维修费用分摊"
            "各执一词。",
        ),
        "{b}于{due}前请专业人员修复渗漏部位并承担维修费用，{a}配合入户施工；双方今后互相体谅。",
        "修复渗漏部位并承担维修费用",
        amount=(300, 3000),
        amount_share=0.35,
        summer=1.2,
    ),
    Scenario(
        "noise",
        "0299",
        9,
        (
            "{a}反映，邻居{b}家夜间经常大声播放音乐、打麻将，影响其家中老人和孩子休息，"
            "双方多次争执。",
            "小区广场舞音响音量过大，临街住户{a}与领舞的{b}发生口角，周边居民意见较大。",
            "{a}与{b}因{b}家饲养的大型犬在楼道便溺、夜间吠叫发生纠纷，双方互不相让。",
            "{b}家装修连续多日在午休和晚间施工，噪音扰民，{a}上门交涉时双方发生争吵。",
        ),
        "{b}承诺晚上九点半以后不再产生噪音，文明养犬、规范施工；双方有事先沟通，互谅互让。",
        "控制噪音，遵守作息时间",
        summer=1.6,
    ),
    Scenario(
        "space",
        "0202",
        6,
        (
            "{a}与邻居{b}因{b}在公共楼道堆放杂物、占用消防通道发生争执。",
            "{a}反映，{b}家在自家门前加建雨棚，遮挡其家窗户采光，双方协商未果。",
            "{a}与{b}因小区公共停车位长期被占用发生口角，引起邻居围观。",
        ),
        "{b}于{due}前清理楼道杂物、拆除影响采光的雨棚，公共区域共同维护；双方互相谅解。",
        "清理占用的公共区域",
    ),
    Scenario(
        "marriage",
        "0101",
        7,
        (
            "{a}与丈夫{b}因家务分担和家庭开支长期争吵，近日矛盾激化，{a}提出离婚，请求社区"
            "帮助调解。",
            "{a}与{b}离婚后，因孩子探视时间和抚养费支付问题多次发生矛盾。",
            "{a}与妻子{b}因双方老人往来和照看孩子的问题发生矛盾，{b}带孩子回娘家已半月。",
        ),
        "双方互相尊重、冷静沟通，{b}按月承担家庭开支（抚养费）{amount}元，双方共同照顾孩子。",
        "按月支付家庭开支（抚养费）",
        amount=(1000, 3000),
        amount_share=0.3,
        special_share=0.15,
        festival=1.3,
    ),
    Scenario(
        "support",
        "0102",
        6,
        (
            "{a}今年七十八岁，反映其子{b}长期不支付赡养费、不探望，老人生活困难，请求社区帮助。",
            "{a}兄妹三人因母亲的赡养和医疗费用分担问题发生争执，{b}认为自己负担过重。",
            "{a}与儿子{b}因老人住房和日常照料问题发生矛盾，老人情绪低落。",
        ),
        "{b}每月10日前支付赡养费，并每周至少探望老人一次；兄弟姐妹共同分担医疗费用。",
        "支付赡养费",
        amount=(3600, 12000),
        amount_share=0.6,
        special_share=0.7,
        festival=1.3,
    ),
    Scenario(
        "inherit",
        "0103",
        3,
        (
            "{a}与{b}兄弟因父母去世后留下的房屋拆迁补偿款分配问题发生纠纷，涉及金额约{amount}元。",
            "{a}与{b}因老宅分家、宅前空地归属发生争执，双方各执一词，多年积怨。",
        ),
        "拆迁补偿款按兄弟二人协商的比例分配，{b}于{due}前将应得部分{amount}元转给{a}。",
        "分配补偿款",
        amount=(50000, 600000),
        amount_share=0.8,
        difficult_share=0.25,
    ),
    Scenario(
        "property",
        "0402",
        7,
        (
            "{a}等业主反映，{org}长期不维修小区电梯和路灯，业主拒交物业费，物业公司停止部分"
            "服务，矛盾激化。",
            "业主{a}的车辆在小区内被划伤，认为物业管理不到位，要求{org}赔偿，物业公司拒绝。",
            "{org}因业主{a}拖欠两年物业费{amount}元，在其门上张贴催缴通知，双方发生争执。",
        ),
        "{org}于{due}前完成电梯、路灯维修并公示维修情况；业主按约交纳物业费{amount}元。",
        "完成维修，按约交纳物业费",
        org=("{w}物业服务有限公司", "{w}物业管理有限公司"),
        amount=(1200, 9000),
        amount_share=0.5,
        people=(2, 8),
        group_share=0.2,
    ),
    Scenario(
        "damage",
        "0401",
        5,
        (
            "{a}停放在{addr}的电动车被{b}倒车时撞坏，双方对赔偿金额分歧较大。",
            "{b}装修时损坏了{a}家的外墙管线，{a}要求赔偿{amount}元，{b}认为要价过高。",
            "{a}借给{b}的三轮车归还时严重损坏，要求{b}修理或赔偿。",
        ),
        "{b}一次性赔偿{a}损失{amount}元，于{due}前付清。",
        "赔偿财物损失",
        amount=(500, 20000),
        amount_share=0.95,
    ),
    Scenario(
        "wages",
        "0703",
        7,
        (
            "{a}等{n}名务工人员反映，{org}拖欠其{months}个月工资共计{amount}元，临近年关，"
            "工人们多次讨要无果，情绪激动。",
            "{a}在{org}做工，老板以工程款未到位为由拖欠其工资{amount}元，{a}多次讨要未果，"
            "到派出所求助。",
            "{a}等{n}名装修工人聚集在{org}门口讨薪，称其拖欠工资{amount}元。",
        ),
        "{org}于{due}前一次性支付{a}等{n}人工资共计{amount}元；工人们不再聚集讨薪。",
        "支付拖欠的工资",
        org=("{w}建筑劳务有限公司", "{w}装饰工程有限公司", "{w}餐饮管理有限公司"),
        amount=(8000, 180000),
        amount_share=1.0,
        people=(3, 25),
        group_share=0.6,
        festival=3.2,
    ),
    Scenario(
        "labour",
        "0701",
        4,
        (
            "{a}在{org}工作三年，公司以经营困难为由单方面解除劳动合同，未支付经济补偿，"
            "{a}要求赔偿{amount}元。",
            "{a}在{org}上班期间手指受伤，双方就工伤待遇和误工费发生争议。",
        ),
        "{org}一次性支付{a}经济补偿（工伤待遇）共计{amount}元，双方劳动关系依法解除。",
        "支付经济补偿",
        org=("{w}电子科技有限公司", "{w}机械制造有限公司", "{w}商贸有限公司"),
        amount=(5000, 60000),
        amount_share=1.0,
        festival=1.4,
    ),
    Scenario(
        "consumer",
        "0601",
        6,
        (
            "{a}在{org}办理预付卡{amount}元，店铺突然停业，{a}要求退还余额。",
            "{a}在{org}用餐后身体不适，认为食物不洁，要求赔偿医药费，店家不予认可，双方争执。",
            "{a}委托{org}装修房屋，完工后墙面开裂、瓷砖空鼓，双方对返工和尾款{amount}元发生纠纷。",
        ),
        "{org}于{due}前退还{a}{amount}元（或返工修复），双方纠纷了结。",
        "退还款项或返工修复",
        org=("{w}美容美发店", "{w}健身会所", "{w}家装公司", "{w}湘菜馆"),
        amount=(200, 20000),
        amount_share=0.9,
    ),
    Scenario(
        "traffic",
        "0503",
        5,
        (
            "{a}骑电动车在{street}与{b}驾驶的小轿车发生剐蹭，{a}轻微擦伤，双方对维修费和医疗费"
            "分担有争议。",
            "{b}驾驶三轮车在{street}倒车时撞倒行人{a}，{a}腿部受伤住院，双方就赔偿问题协商未果。",
            "{a}与{b}的车辆在小区出入口发生碰撞，双方各执一词，均不愿承担责任。",
        ),
        "{b}一次性赔偿{a}医疗费、误工费、车辆维修费共计{amount}元，于{due}前付清。",
        "赔偿医疗费、误工费和维修费",
        amount=(800, 60000),
        amount_share=0.9,
    ),
    Scenario(
        "lease",
        "0602",
        4,
        (
            "{a}租住{b}的房屋，租期届满退房时，{b}以墙面污损为由扣留押金{amount}元，双方发生纠纷。",
            "房东{a}反映，租客{b}拖欠三个月房租{amount}元且拒不搬离。",
        ),
        "{b}于{due}前退还押金（支付租金）{amount}元，双方租赁关系结清。",
        "退还押金或支付租金",
        amount=(1000, 10000),
        amount_share=1.0,
    ),
    Scenario(
        "loan",
        "0804",
        4,
        (
            "{a}两年前借给朋友{b}人民币{amount}元，有借条为证，到期后{b}以生意亏损为由拒不归还。",
            "{a}与{b}因合伙做生意时的借款{amount}元归还问题发生争执。",
        ),
        "{b}分期归还{a}借款{amount}元，首期于{due}前支付。",
        "归还借款",
        amount=(5000, 200000),
        amount_share=1.0,
        difficult_share=0.1,
        festival=1.5,
    ),
    Scenario(
        "homestead",
        "0902",
        3,
        (
            "{a}与{b}两家宅基地相邻，{b}建新房时地基越界约半米，{a}要求拆除，双方争执不下。",
            "{a}与{b}因宅基地界址和一条排水沟的归属发生纠纷，两家积怨多年。",
        ),
        "双方按村委会现场确认的界址执行，{b}于{due}前拆除越界部分，排水沟由两家共同使用。",
        "按确认的界址拆除越界部分",
        village_only=True,
        difficult_share=0.2,
    ),
    Scenario(
        "land",
        "0901",
        2,
        (
            "{a}与{b}因承包田灌溉用水和田埂归属发生争执。",
            "{a}将承包的菜地转租给{b}，{b}逾期未付租金{amount}元，双方发生矛盾。",
        ),
        "双方轮流灌溉、田埂按原址恢复；{b}于{due}前付清租金{amount}元。",
        "付清租金",
        amount=(800, 6000),
        amount_share=0.5,
        village_only=True,
        summer=1.4,
    ),
    Scenario(
        "fight",
        "0303",
        5,
        (
            "{a}与{b}因停车琐事发生口角，继而互相推搡，{a}面部受轻伤，{b}扬言还要报复。",
            "{a}反映，{b}因债务问题多次打电话威胁恐吓其家人，{a}担心出事，到派出所报警。",
            "{a}与{b}在夜宵摊因琐事发生打架，双方均有轻微伤，经民警制止后同意调解。",
        ),
        "{b}向{a}赔礼道歉，赔偿医药费{amount}元；双方保证今后不再发生冲突。",
        "赔礼道歉并赔偿医药费",
        amount=(200, 3000),
        amount_share=0.8,
        violence_share=0.5,
        summer=1.5,
        violent=True,
    ),
)

# Minutes of a mediation session, by how it went.
MINUTES_FIRST = (
    "首次调解：双方分别陈述了事实和诉求，调解员核实了现场情况和相关凭证，双方同意继续协商，"
    "约定下次调解时间。"
)
MINUTES_AGREED = (
    "调解员向双方释法说理，{a}与{b}各自陈述了意见。经耐心疏导，双方互谅互让，就争议事项"
    "达成一致意见，当场签订（确认）调解协议。"
)
MINUTES_FAILED = (
    "双方分歧较大，{b}坚持不同意{a}提出的要求，经多次调解未能达成一致。调解员告知双方可以"
    "通过诉讼、仲裁等途径依法解决。"
)
FOLLOWUP_HONOURED = (
    "当事人表示协议已履行，矛盾已化解，对调解工作满意。",
    "电话回访，双方均表示按协议执行，关系已恢复正常。",
    "上门回访，协议内容已落实，当事人表示感谢。",
)
FOLLOWUP_BROKEN = "回访发现{b}未按协议履行，{a}情绪不满，要求重新调解。"
WITHDRAW_NOTES = (
    "双方已自行和解，申请撤回调解。",
    "{b}不愿调解，{a}表示将直接向法院起诉。",
    "当事人家属出面协商解决，申请撤回。",
)
TERMINATE_NOTES = (
    "一方当事人已向法院起诉，法院已立案受理，终止调解。",
    "被申请人长期失联，无法继续调解，终止调解。",
)
REFERRALS = {
    "07": ("labour", "岳麓区劳动保障监察大队"),
    "06": ("litigation", "长沙市岳麓区人民法院"),
    "08": ("litigation", "长沙市岳麓区人民法院"),
    "": ("litigation", "长沙市岳麓区人民法院"),
}

# The seeds' own cases (seed 002), told as the station would register them.
SEED_MIL = (
    "{addr}居民{a}（婆婆）与儿媳{b}因孩子的喂养和教育方式长期存在分歧，婆媳之间积怨已久，"
    "近日再次因育儿问题发生激烈争执，儿媳带孩子回了娘家。小区热心居民、“红色管家”成员{c}"
    "了解到婆媳之间长期存在矛盾后，主动与社区民警联系，请求帮助化解。"
)
SEED_MIL_MINUTES = (
    "社区民警与社区调解员、“红色管家”{c}一起上门，分别与婆婆{a}、儿媳{b}谈心，听取双方对"
    "孩子喂养和教育的想法；再请双方坐下来当面沟通，讲明两代人育儿观念不同、出发点都是为了孩子。"
    "经耐心疏导，婆媳二人解开心结，约定孩子的日常照料以儿媳为主、婆婆协助，有分歧先商量。"
)
SEED_MIL_TERMS = (
    "一、孩子的饮食、作息和教育以儿媳{b}的安排为主，婆婆{a}协助照看；二、双方遇到分歧先平心"
    "静气商量，不当着孩子争吵；三、儿媳{b}于三日内带孩子回家居住。"
)
SEED_FIGHT = (
    "{d}，辖区科技园员工{a}报警称，其与同厂工友{b}长期积怨，当天在车间因琐事大打出手、"
    "互相殴打。厂区保卫部门调解后，{b}仍出言威胁，扬言要报复{a}。{b}系厂里老员工，脾气倔强，"
    "觉得自己年长却在年轻人手上吃了亏，心里有怨气；因这一闹，可能面临被解雇的风险。"
)
SEED_FIGHT_MINUTES = (
    "调解民警了解到{b}系老员工，因这一闹可能面临被解雇，心里愈发不是滋味。民警本着小矛盾就地"
    "化解的原则，找到{b}所在公司的老板，希望其为{b}担保，给他一次继续工作的机会；同时找来与"
    "两人关系好的工友从中斡旋。最终{b}向{a}赔礼道歉，二人握手言和，承诺不再发生冲突。"
)
SEED_FIGHT_TERMS = (
    "一、{b}向{a}赔礼道歉，并赔偿医药费800元；二、双方保证今后不再发生冲突，不以任何方式威胁"
    "对方；三、公司对{b}给予批评教育，保留其工作岗位。"
)
SEED_WAGES = (
    "{org}拖欠在{c}服务的18名保洁、保安、维修工人三个月工资共计12万元，工人们聚集在物业办公室"
    "讨要薪资，情绪激动，有人扬言要堵路。社区民警接报后立即会同雷锋街道司法所、岳麓区劳动"
    "监察大队迅速介入。"
)
SEED_WAGES_MINUTES = (
    "社区民警、司法所工作人员和劳动监察大队执法人员当天召集{org}负责人与工人代表{a}、{b}等进行"
    "联合调解。劳动监察大队现场核对考勤和工资表，司法所释法说理，明确拖欠工资必须足额支付；"
    "物业公司当场筹措资金，当天协调结清全部12万元薪资，工人们情绪平稳后散去。"
)
SEED_WAGES_TERMS = (
    "一、{org}于当日一次性支付18名工人三个月工资共计120,000元；二、今后按月足额发放工资，"
    "不得拖欠；三、工人代表负责劝导工人有序离开，不再聚集。"
)
