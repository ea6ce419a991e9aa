//! Chinese titles, bodies, replies and notes composed from templates per category,
//! with place names from the case's region.

use super::org::Unit;
use super::people::{estate, mobile, pick, road};
use entities::CaseKind;
use rand::Rng;

/// One kind of problem within a category: its title, a sentence of detail, and the unit
/// that handles it when it is not the category's default.
pub struct Issue {
    pub title: &'static str,
    pub detail: &'static str,
    pub unit: Option<Unit>,
}

const fn issue(title: &'static str, detail: &'static str) -> Issue {
    Issue {
        title,
        detail,
        unit: None,
    }
}

const fn issue_by(title: &'static str, detail: &'static str, unit: Unit) -> Issue {
    Issue {
        title,
        detail,
        unit: Some(unit),
    }
}

/// What citizens write about one level-2 category.
pub struct Topic {
    pub code: &'static str,
    pub unit: Unit,
    pub issues: &'static [Issue],
    pub consult: &'static [&'static str],
    pub suggest: &'static [&'static str],
    pub report: &'static [&'static str],
    /// Relative share of the category's cases.
    pub weight: u32,
}

pub const TOPICS: &[Topic] = &[
    Topic { code: "urban.housing", unit: Unit::Housing, weight: 5,
        issues: &[
            issue("{place}{estate}商品房逾期交房开发商拒不赔偿", "购房合同约定的交房时间已过去{n}个月，开发商以各种理由拖延，至今没有交房，也不按合同支付违约金"),
            issue("{estate}小区购房多年仍未办理不动产权证", "我们小区业主入住已经{n}年，因开发商欠缴税费，全体业主至今办不了房产证，孩子上学落户都受影响"),
            issue("{place}公租房申请审核进度缓慢", "我家符合公租房申请条件，材料已交齐{n}个月，一直显示审核中，打电话也没有明确答复"),
        ],
        consult: &["公积金贷款购买二手房的额度和办理流程", "人才公寓的申请条件", "房屋维修资金的使用程序"],
        suggest: &["加快老旧小区改造进度，优先加装电梯"],
        report: &["{estate}项目开发商违规收取“茶水费”"] },
    Topic { code: "urban.planning", unit: Unit::Planning, weight: 2,
        issues: &[
            issue("{place}{road}规划道路多年未实施", "这条规划道路公示已经{n}年，至今没有动工，周边居民出行只能绕行"),
            issue("{estate}旁新建楼盘影响采光", "小区旁边正在新建的高层离我们楼太近，冬至日几乎晒不到太阳，请核实规划审批是否合规"),
        ],
        consult: &["{estate}周边地块的规划用途", "农村自建房规划许可的办理条件"],
        suggest: &["在{place}规划建设社区公园和停车场"],
        report: &[] },
    Topic { code: "urban.municipal", unit: Unit::UrbanManagement, weight: 6,
        issues: &[
            issue("{place}{road}路灯损坏长期不亮", "{road}一段约{n}百米的路灯已经坏了很久，晚上一片漆黑，老人孩子出行很不安全"),
            issue("{road}人行道井盖缺失存在安全隐患", "{road}靠近{estate}门口的人行道上井盖缺失，只用一块木板盖着，已经有行人摔伤"),
            issue_by("{place}{estate}频繁停水且无提前通知", "最近一个月小区停水{n}次，每次都没有提前通知，居民生活受到很大影响", Unit::Water),
            issue_by("{place}{estate}一带夏季频繁停电", "入夏以来我们这一片已经停电{n}次，最长一次停了七八个小时，家里老人身体不好，请尽快改造线路", Unit::Power),
            issue("{road}占道经营严重影响通行", "{road}每天早晚都有大量流动摊贩占道经营，车辆和行人通行困难，垃圾也没人清理"),
        ],
        consult: &["{place}燃气管道入户的申请流程", "临时占道施工许可的办理"],
        suggest: &["在{road}增设公共厕所和垃圾分类投放点"],
        report: &["{road}商户私搭乱建违章建筑"] },
    Topic { code: "urban.property", unit: Unit::Housing, weight: 6,
        issues: &[
            issue("{place}{estate}小区电梯长期故障无人维修", "小区{n}号楼电梯经常停运，最近一次已经坏了两周，物业以维修资金未审批为由拖延，楼上住着不少老人"),
            issue("{estate}物业公司服务差却上调物业费", "物业公司卫生、安保都不到位，却在未经业主大会同意的情况下上调物业费"),
            issue("{estate}小区地下车库长期漏水", "地下车库顶板漏水已经{n}个月，多辆车被泡，物业和开发商互相推诿"),
        ],
        consult: &["成立业主委员会的程序", "更换物业服务企业需要满足的条件"],
        suggest: &["对物业服务企业实行信用评价并向社会公开"],
        report: &["{estate}物业擅自将公共区域出租牟利"] },
    Topic { code: "urban.construction_quality", unit: Unit::Housing, weight: 2,
        issues: &[
            issue("{estate}新交付住房墙体大面积开裂", "刚收房不到{n}个月，客厅和卧室墙体就出现多条裂缝，担心存在结构安全问题"),
            issue("{place}安置房屋顶渗水问题反复出现", "安置房交付后屋顶一直渗水，维修了几次都没有解决"),
        ],
        consult: &["商品房质量保修期限的规定"],
        suggest: &["加强保障性住房工程质量监管"],
        report: &["{place}在建工地使用不合格钢材"] },
    Topic { code: "urban.demolition", unit: Unit::Housing, weight: 2,
        issues: &[
            issue("{place}征地拆迁补偿款迟迟未到位", "我家房屋{n}年前被征收，协议约定的补偿款至今还有一部分没有支付"),
            issue("{place}过渡安置费停发", "拆迁后一直在外租房过渡，安置房迟迟不能交付，过渡费却从去年起停发了"),
        ],
        consult: &["{place}旧城改造项目的补偿标准", "征收决定的公示和异议程序"],
        suggest: &["征收补偿方案提前向群众公开征求意见"],
        report: &[] },
    Topic { code: "environment.pollution", unit: Unit::Ecology, weight: 4,
        issues: &[
            issue("{place}{company}夜间偷排废气刺鼻难闻", "每到晚上十点以后，{company}就开始排放刺鼻气味的废气，周边居民无法开窗，不少人出现咳嗽头痛"),
            issue("{place}河道出现黑臭水体", "{place}段河道最近水体发黑发臭，还有死鱼，怀疑上游有企业偷排污水"),
            issue("{road}餐馆油烟直排居民楼", "楼下新开的餐馆没有安装油烟净化设施，油烟直接排进楼道和住户家中"),
        ],
        consult: &["企业环境信息公开的查询途径"],
        suggest: &["在{place}增设空气质量监测点并公开数据"],
        report: &["{company}私设暗管排放污水", "{place}有人在河边非法倾倒建筑垃圾"] },
    Topic { code: "environment.noise", unit: Unit::Ecology, weight: 4,
        issues: &[
            issue("{place}工地夜间违规施工噪声扰民", "{estate}旁边的工地经常施工到凌晨一两点，噪声很大，居民根本无法休息"),
            issue("{road}广场舞音响音量过大", "每天晚上{road}广场跳舞的音响声音很大，持续到十点以后，影响学生学习和老人休息"),
            issue_by("{road}深夜飙车炸街噪声扰民", "最近经常有改装摩托车深夜在{road}飙车，噪声巨大，请加强巡查整治", Unit::Police),
        ],
        consult: &["夜间施工许可的办理和公示规定"],
        suggest: &["在居民区周边道路设置禁鸣标志和噪声监测设备"],
        report: &[] },
    Topic { code: "environment.greening", unit: Unit::UrbanManagement, weight: 2,
        issues: &[
            issue("{estate}周边垃圾清运不及时", "小区外的垃圾站经常满溢，垃圾好几天才清运一次，夏天臭气熏天"),
            issue("{road}行道树遮挡路灯和交通标志", "{road}两侧树木多年没有修剪，遮挡了路灯和红绿灯，存在安全隐患"),
        ],
        consult: &["私人砍伐自家院内树木是否需要审批"],
        suggest: &["在{place}多建口袋公园，增加绿地和健身设施"],
        report: &["有人擅自砍伐{road}绿化带树木"] },
    Topic { code: "environment.approval", unit: Unit::Ecology, weight: 1,
        issues: &[
            issue("{place}拟建项目环评公示时间过短", "{place}拟建的{company}项目离居民区很近，环评公示只有几天，群众意见没有被听取"),
        ],
        consult: &["{place}新建垃圾焚烧项目的环评情况"],
        suggest: &["重大项目环评召开听证会听取周边居民意见"],
        report: &["{company}未批先建"] },
    Topic { code: "transport.public_transit", unit: Unit::Transport, weight: 4,
        issues: &[
            issue("{place}{road}公交线路调整后出行不便", "原来经过{road}的公交线路调整后，附近几个小区的居民要步行二十多分钟才能坐到车"),
            issue("{place}公交车发车间隔太长", "早高峰公交车{n}十分钟才来一趟，车上非常拥挤，上班经常迟到"),
        ],
        consult: &["老年人乘车优惠卡的办理", "{place}到火车站的公交线路"],
        suggest: &["开通{place}至市区的通勤快线", "在{estate}门口增设公交站点"],
        report: &[] },
    Topic { code: "transport.taxi", unit: Unit::Transport, weight: 2,
        issues: &[
            issue("出租车司机拒载绕路多收费", "在{road}乘坐出租车，司机故意绕路，比平时多收了{n}十元，还态度恶劣"),
            issue("网约车平台乱收取取消费", "网约车迟迟不到，取消订单后平台仍扣了取消费，投诉平台没有结果"),
        ],
        consult: &["网约车驾驶员从业资格证的办理"],
        suggest: &["在火车站和医院增设出租车临时停靠点"],
        report: &["{road}一带黑车非法营运"] },
    Topic { code: "transport.roads", unit: Unit::Transport, weight: 4,
        issues: &[
            issue("{place}{road}路面坑洼多年未修", "{road}路面坑槽很多，下雨天积水，已经发生多起电动车摔倒事故"),
            issue("{place}村道硬化工程停工半年", "我们村的道路硬化工程去年开工，修了一半就停工了，村民出行更加困难"),
        ],
        consult: &["{place}至{county}的道路改造计划"],
        suggest: &["在{road}学校路段增设减速带和人行横道"],
        report: &["{place}道路工程偷工减料"] },
    Topic { code: "transport.traffic", unit: Unit::Police, weight: 3,
        issues: &[
            issue("{road}路口红绿灯配时不合理造成拥堵", "{road}路口左转绿灯时间太短，早晚高峰车辆排队很长"),
            issue("{estate}门口车辆乱停乱放堵塞消防通道", "小区门口和消防通道常年被车辆占用，一旦发生火灾后果不堪设想"),
        ],
        consult: &["电子监控违法记录的查询和处理", "驾驶证到期换证的办理"],
        suggest: &["在{road}设置潮汐车道缓解拥堵"],
        report: &["{road}有货车长期超载行驶"] },
    Topic { code: "education.schools", unit: Unit::Education, weight: 3,
        issues: &[
            issue("{place}{school}课后服务变相强制收费", "{school}要求所有学生参加课后服务并收费，不参加的家长被老师点名"),
            issue("{place}{school}周边交通拥堵存在安全隐患", "{school}放学时门口车辆拥堵，学生过马路非常危险"),
        ],
        consult: &["小学课后延时服务的政策规定"],
        suggest: &["在{place}新建一所公办幼儿园"],
        report: &["{school}教师有偿补课"] },
    Topic { code: "education.admission", unit: Unit::Education, weight: 3,
        issues: &[
            issue("孩子在{place}无法就近入学", "我家住在{estate}，按学区应该就读{school}，但学校以学位已满为由拒收"),
            issue("随迁子女入学积分材料被退回", "我们在{city}务工{n}年，社保和居住证都齐全，孩子入学申请却被退回"),
        ],
        consult: &["{place}今年小学一年级的招生划片范围", "随迁子女参加中考的条件", "高考加分政策"],
        suggest: &["公开义务教育阶段学位分配情况"],
        report: &[] },
    Topic { code: "education.fees", unit: Unit::Education, weight: 1,
        issues: &[
            issue("{place}民办幼儿园大幅上涨保教费", "幼儿园新学期保教费一下子涨了{n}百元，事先没有征求家长意见"),
        ],
        consult: &["公办幼儿园保教费的收费标准"],
        suggest: &["规范民办学校收费并公开收费明细"],
        report: &["{school}违规收取资料费"] },
    Topic { code: "education.culture_sports", unit: Unit::Culture, weight: 2,
        issues: &[
            issue("{place}社区图书室长期不开放", "社区图书室挂牌多年，但一直锁着门，居民从来没有借到过书"),
            issue("{place}全民健身设施损坏无人维修", "{estate}附近的健身器材坏了好几件，存在安全隐患"),
        ],
        consult: &["体育场馆免费开放的时间"],
        suggest: &["周末延长图书馆和文化馆的开放时间"],
        report: &[] },
    Topic { code: "labour.wages", unit: Unit::HumanResources, weight: 5,
        issues: &[
            issue("{place}工地拖欠农民工工资", "我们在{place}的工地干了{n}个月，包工头拖欠工资，年底了还没拿到钱，家里等着用"),
            issue("{company}拖欠员工工资{n}个月", "{company}以经营困难为由连续{n}个月没有发工资，员工多次讨要无果"),
        ],
        consult: &["劳动仲裁的申请流程", "加班工资的计算标准"],
        suggest: &["建立工程项目农民工工资专用账户的公示制度"],
        report: &["{company}恶意欠薪后转移资产"] },
    Topic { code: "labour.social_insurance", unit: Unit::HumanResources, weight: 4,
        issues: &[
            issue("{company}未给员工缴纳社会保险", "我在{company}工作{n}年，公司一直没有给我缴纳社保"),
            issue("异地医保报销手续繁琐迟迟未到账", "在外地住院的费用申请报销已经{n}个月，至今没有到账"),
        ],
        consult: &["灵活就业人员参加养老保险的缴费标准", "社保关系跨省转移的办理", "城乡居民医保的缴费时间"],
        suggest: &["简化异地就医备案手续"],
        report: &["有人冒领已故人员养老金"] },
    Topic { code: "labour.employment", unit: Unit::HumanResources, weight: 2,
        issues: &[
            issue("创业担保贷款申请被拖延", "申请创业担保贷款材料已经提交{n}个月，一直没有审批结果"),
        ],
        consult: &["失业保险金的申领条件", "职业技能培训补贴的申请"],
        suggest: &["多举办面向退役军人和高校毕业生的招聘会"],
        report: &["{company}以招聘为名收取培训费"] },
    Topic { code: "labour.retirement", unit: Unit::HumanResources, weight: 2,
        issues: &[
            issue("退休审批因档案缺失无法办理", "今年到了退休年龄，但单位把我的档案弄丢了，退休手续一直办不下来"),
        ],
        consult: &["企业职工退休年龄和养老金计算办法", "退休人员养老金调整的时间"],
        suggest: &["退休手续实现网上办理"],
        report: &[] },
    Topic { code: "commerce.market_regulation", unit: Unit::Market, weight: 3,
        issues: &[
            issue("{place}农贸市场缺斤少两", "在{place}农贸市场买菜多次发现缺斤少两，摊主态度恶劣"),
            issue("{company}虚假宣传诱导老人购买保健品", "{company}以免费体检、讲座为名，向老人高价推销保健品，宣传能治百病"),
        ],
        consult: &["个体工商户营业执照的办理", "企业年报的填报时间"],
        suggest: &["在农贸市场设置公平秤"],
        report: &["{company}无证经营", "{road}商铺销售假冒名牌商品"] },
    Topic { code: "commerce.consumer_rights", unit: Unit::Market, weight: 4,
        issues: &[
            issue("{place}健身房突然关门预付卡无法退费", "我在{place}一家健身房办了年卡，没用几次就关门了，老板联系不上，涉及上百名会员"),
            issue("网购家电出现质量问题商家拒绝退换", "在网上买的冰箱用了不到{n}个月就坏了，商家和厂家互相推诿"),
            issue("{company}装修合同纠纷拒不履行", "与{company}签订装修合同后，对方施工质量差、拖延工期，还要求增加费用"),
        ],
        consult: &["预付卡消费的退费规定"],
        suggest: &["加强对预付式消费的监管，建立资金存管制度"],
        report: &[] },
    Topic { code: "commerce.tourism", unit: Unit::Culture, weight: 2,
        issues: &[
            issue("{place}景区强制消费", "参加旅行团到{place}景区，导游强制购物，不买就冷嘲热讽"),
            issue("节假日{place}景区门票预约难", "节假日想带家人游玩，网上一直约不到票，现场又不售票"),
        ],
        consult: &["{place}景区老年人门票优惠政策"],
        suggest: &["在{place}景区增加停车位和接驳车"],
        report: &["{place}民宿无证经营"] },
    Topic { code: "health.medical_disputes", unit: Unit::Health, weight: 3,
        issues: &[
            issue_by("{city}某医院过度检查收费不合理", "家人在医院看病，医生开了大量不必要的检查，费用高达{n}千元", Unit::Hospital),
            issue_by("{place}医院挂号难排队时间长", "每次到医院看病都要排队好几个小时，网上号源很快就没有了", Unit::Hospital),
        ],
        consult: &["医疗纠纷调解的申请途径", "异地就医的报销比例"],
        suggest: &["基层卫生院增加儿科和夜间门诊"],
        report: &["{place}诊所医生无证行医"] },
    Topic { code: "health.public_health", unit: Unit::Health, weight: 2,
        issues: &[
            issue("{place}卫生院疫苗接种预约困难", "孩子需要按时接种疫苗，但卫生院每次放号很快就约满了"),
        ],
        consult: &["{place}成人疫苗接种点和接种时间", "出生医学证明的补办"],
        suggest: &["在社区卫生服务中心开设周末门诊"],
        report: &[] },
    Topic { code: "health.food_drug", unit: Unit::Market, weight: 2,
        issues: &[
            issue("{school}食堂饭菜质量差存在食品安全隐患", "孩子反映{school}食堂饭菜经常有异物，还出现过腹泻"),
            issue("{road}餐馆卫生条件差", "{road}一家餐馆后厨脏乱，吃完后出现呕吐腹泻"),
        ],
        consult: &["小餐饮经营许可的办理条件"],
        suggest: &["推行“明厨亮灶”并向社会公开检查结果"],
        report: &["{place}小作坊生产销售过期食品", "{road}药店无处方销售处方药"] },
    Topic { code: "public_security.order", unit: Unit::Police, weight: 3,
        issues: &[
            issue("{place}{estate}小区多次发生电动车被盗", "最近小区接连发生电动车和电瓶被盗，报警后一直没有结果"),
            issue("{road}夜间烧烤摊醉酒滋事", "{road}夜市烧烤摊经常有人醉酒闹事，居民不敢晚上出门"),
        ],
        consult: &["遭遇电信诈骗后如何报案和追回损失"],
        suggest: &["在{place}主要路口加装监控摄像头"],
        report: &["{place}有人聚众赌博", "{road}棋牌室涉嫌非法经营"] },
    Topic { code: "public_security.household", unit: Unit::Police, weight: 2,
        issues: &[
            issue("{place}派出所办理户口迁移要求材料过多", "办理户口迁入反复被要求补交材料，跑了{n}趟还没办成"),
        ],
        consult: &["身份证异地换领的办理", "新生儿落户需要的材料", "居住证的办理条件"],
        suggest: &["户籍业务实现“一网通办”"],
        report: &[] },
    Topic { code: "public_security.legal_aid", unit: Unit::Justice, weight: 1,
        issues: &[
            issue("法律援助申请被拒", "我因工伤纠纷申请法律援助，经济困难证明都有，却被告知不符合条件"),
        ],
        consult: &["法律援助的申请条件", "人民调解的申请程序"],
        suggest: &["在村（社区）设立公共法律服务点"],
        report: &[] },
    Topic { code: "civil_affairs.assistance", unit: Unit::CivilAffairs, weight: 2,
        issues: &[
            issue("{place}低保评定不公开不公平", "我家符合低保条件却没有评上，村里有条件好的人却享受低保"),
            issue("{place}残疾人补贴停发", "家里残疾人的两项补贴从{n}月起停发了，没有任何通知"),
        ],
        consult: &["临时救助的申请条件", "困难残疾人生活补贴的标准"],
        suggest: &["低保评定结果在村（社区）公开公示"],
        report: &["{place}村干部优亲厚友骗取低保"] },
    Topic { code: "civil_affairs.elderly", unit: Unit::CivilAffairs, weight: 2,
        issues: &[
            issue("{place}高龄津贴发放不及时", "家里老人已满八十岁，高龄津贴申请了{n}个月仍未发放"),
        ],
        consult: &["养老服务补贴的申请", "{place}公办养老院的入住条件"],
        suggest: &["在{estate}附近建设社区老年食堂"],
        report: &["{company}以养老项目为名非法集资"] },
    Topic { code: "civil_affairs.community", unit: Unit::Township, weight: 2,
        issues: &[
            issue("{place}社区办事要求开具不必要证明", "社区要求开具各种证明，很多都属于清理取消的范围"),
        ],
        consult: &["社区服务中心的办事时间和事项清单"],
        suggest: &["社区公开财务收支情况", "增加社区公共活动空间"],
        report: &["{place}村委会违规处置集体资产"] },
    Topic { code: "rural.land_contract", unit: Unit::Agriculture, weight: 2,
        issues: &[
            issue("{place}土地流转租金拖欠", "村里统一流转的土地，承租的{company}已经{n}年没有支付租金"),
            issue("{place}承包地确权面积与实际不符", "我家承包地确权登记的面积比实际少了{n}亩，多次反映没有更正"),
        ],
        consult: &["土地承包经营权证的变更登记"],
        suggest: &["规范土地流转合同文本"],
        report: &["{place}违法占用耕地建房"] },
    Topic { code: "rural.subsidies", unit: Unit::Agriculture, weight: 2,
        issues: &[
            issue("{place}耕地地力保护补贴未到账", "今年的耕地地力保护补贴其他村民都到账了，我家一直没有收到"),
        ],
        consult: &["农机购置补贴的申请", "种粮补贴的发放标准"],
        suggest: &["惠农补贴发放信息通过短信告知农户"],
        report: &["{place}村干部截留惠农补贴"] },
    Topic { code: "rural.water", unit: Unit::WaterResources, weight: 2,
        issues: &[
            issue_by("{place}农村饮水工程水质浑浊", "村里的自来水经常浑浊发黄，烧开后有沉淀，不敢直接饮用", Unit::Water),
            issue("{place}灌溉渠道损毁影响春耕", "村里的灌溉渠道去年汛期被冲毁，至今没有修复，马上要春耕了"),
        ],
        consult: &["农村安全饮水工程的建设计划"],
        suggest: &["对山坪塘进行清淤整治"],
        report: &["{place}河道非法采砂"] },
];

const GREETINGS: &[&str] = &[
    "尊敬的领导：您好！",
    "领导您好！",
    "您好！",
    "尊敬的书记：您好！",
    "尊敬的市长：您好！",
    "",
];
const WHO: &[&str] = &[
    "我是{place}{estate}的居民，",
    "我是{place}的一名普通群众，",
    "我住在{place}{road}附近，",
    "本人是{place}村民，",
    "我是一名在{city}工作的外地务工人员，",
];
const HISTORY: &[&str] = &[
    "此前已多次向社区和有关部门反映，但问题一直没有得到解决。",
    "拨打过12345热线，也到现场找过相关单位，至今没有结果。",
    "这个问题已经持续了{n}个月，周边群众意见很大。",
    "",
];
const ASK: &[&str] = &[
    "恳请领导高度重视，督促相关部门尽快核实处理！",
    "希望有关部门能够尽快调查处理，给群众一个答复。",
    "请相关部门依法依规处理，谢谢！",
    "盼望早日解决，感谢领导百忙之中阅读此信。",
];
const COMPANY_HEADS: &[&str] = &[
    "恒通", "华兴", "金鼎", "宏达", "鑫源", "天成", "蜀兴", "锦程", "瑞丰", "众和",
];
const COMPANY_TAILS: &[&str] = &[
    "建材有限公司",
    "化工有限公司",
    "建筑工程有限公司",
    "商贸有限公司",
    "餐饮管理有限公司",
    "科技有限公司",
    "物流有限公司",
];
const SCHOOLS: &[&str] = &[
    "实验小学",
    "第一小学",
    "中心小学",
    "第二中学",
    "实验中学",
    "中心幼儿园",
];
const PRAISE: &[&str] = &[
    "及时解决了我们小区的停水问题",
    "耐心帮助老人办理了社保业务",
    "连夜抢修了损坏的道路",
    "帮我们讨回了拖欠的工资",
    "工作人员热情周到、办事高效",
];

/// Where a case is, for filling in its text.
pub struct Places<'a> {
    /// The most local name: township, else county, else city.
    pub place: &'a str,
    pub county: &'a str,
    pub city: &'a str,
}

/// Fills `{place} {county} {city} {estate} {road} {company} {school} {n}` in `template`.
/// Each placeholder is drawn once per call so repeated ones agree.
pub struct Filler {
    estate: String,
    road: String,
    company: String,
    school: String,
    n: u32,
}

impl Filler {
    pub fn new<R: Rng>(rng: &mut R) -> Self {
        Filler {
            estate: estate(rng),
            road: road(rng),
            company: format!("{}{}", pick(rng, COMPANY_HEADS), pick(rng, COMPANY_TAILS)),
            school: pick(rng, SCHOOLS).to_string(),
            n: rng.random_range(2..10),
        }
    }

    pub fn fill(&self, template: &str, places: &Places<'_>, out: &mut String) {
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return;
            };
            match &after[..end] {
                "place" => out.push_str(places.place),
                "county" => out.push_str(places.county),
                "city" => out.push_str(places.city),
                "estate" => out.push_str(&self.estate),
                "road" => out.push_str(&self.road),
                "company" => out.push_str(&self.company),
                "school" => {
                    out.push_str(places.place);
                    out.push_str(&self.school);
                }
                "n" => out.push_str(&self.n.to_string()),
                other => {
                    out.push('{');
                    out.push_str(other);
                    out.push('}');
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
    }
}

/// A composed title and body, and the unit that should handle it.
pub struct Text {
    pub title: String,
    pub body: String,
    pub unit: Unit,
}

/// Composes the title and body of a case of `kind` about `topic` in `places`.
pub fn compose<R: Rng>(
    rng: &mut R,
    topic: &Topic,
    kind: CaseKind,
    places: &Places<'_>,
    unit_name: Option<&str>,
) -> Text {
    let f = Filler::new(rng);
    let mut title = String::with_capacity(64);
    let mut body = String::with_capacity(400);
    let mut unit = topic.unit;
    body.push_str(pick(rng, GREETINGS));
    let kind = match kind {
        CaseKind::Report if topic.report.is_empty() => CaseKind::Complaint,
        k => k,
    };
    match kind {
        CaseKind::Consultation => {
            let what = pick(rng, topic.consult);
            title.push_str("咨询");
            f.fill(what, places, &mut title);
            f.fill(pick(rng, WHO), places, &mut body);
            body.push_str("想咨询一下");
            f.fill(what, places, &mut body);
            body.push_str("，具体需要准备哪些材料、到哪里办理、多长时间能办好？网上没有查到明确说明，麻烦给予解答。");
        }
        CaseKind::Suggestion => {
            let what = pick(rng, topic.suggest);
            title.push_str("关于");
            f.fill(what, places, &mut title);
            title.push_str("的建议");
            f.fill(pick(rng, WHO), places, &mut body);
            body.push_str("结合身边的实际情况，建议");
            f.fill(what, places, &mut body);
            body.push_str("。这样既方便群众，也能提升城市治理水平，希望相关部门研究采纳。");
        }
        CaseKind::Report => {
            let what = pick(rng, topic.report);
            title.push_str("举报");
            f.fill(what, places, &mut title);
            body.push_str("现实名举报");
            f.fill(what, places, &mut body);
            body.push_str("的问题。");
            f.fill("该问题已持续{n}个月，群众反映强烈，", places, &mut body);
            body.push_str("请有关部门依法调查处理，并对举报人信息予以保密。");
        }
        CaseKind::Praise => {
            let who = unit_name.unwrap_or("相关部门");
            let why = pick(rng, PRAISE);
            title.push_str("感谢");
            title.push_str(who);
            title.push_str("为民办实事");
            f.fill(pick(rng, WHO), places, &mut body);
            body.push_str("特别感谢");
            body.push_str(who);
            body.push_str("的工作人员");
            body.push_str(why);
            body.push_str("。他们的工作作风让我们感受到了党和政府的温暖，特此写信表扬！");
        }
        CaseKind::Complaint | CaseKind::HelpRequest => {
            let issue = &topic.issues[rng.random_range(0..topic.issues.len())];
            if let Some(u) = issue.unit {
                unit = u;
            }
            if kind == CaseKind::HelpRequest && rng.random_bool(0.4) {
                title.push_str("求助：");
            }
            f.fill(issue.title, places, &mut title);
            f.fill(pick(rng, WHO), places, &mut body);
            f.fill(issue.detail, places, &mut body);
            body.push('。');
            f.fill(pick(rng, HISTORY), places, &mut body);
            body.push_str(pick(rng, ASK));
        }
    }
    if kind != CaseKind::Praise && rng.random_bool(0.2) {
        // Some writers leave a number in the text: the redaction work needs real cases.
        body.push_str("我的联系电话：");
        body.push_str(&mobile(rng));
        body.push('。');
    }
    Text { title, body, unit }
}

const REPLIES: &[&str] = &[
    "您好！您反映的问题已收悉。经我单位工作人员现场核实，情况基本属实。我单位已责成相关责任单位于近期完成整改，并将加强日常巡查，防止问题反弹。感谢您对我们工作的关心和支持！",
    "您好！收到您的留言后，我单位高度重视，立即安排专人与您电话联系并实地调查。经协调，相关问题已于近日解决。如仍有疑问，可拨打12345热线或到我单位咨询。",
    "您好！关于您咨询的问题，现答复如下：根据相关政策规定，符合条件的群众可携带本人身份证件及相关证明材料到政务服务中心窗口办理，也可通过“天府通办”网上办理。感谢您的来信！",
    "您好！您的建议很有价值，我单位已将其纳入下一阶段工作计划统筹研究。后续将结合实际情况逐步推进，欢迎您继续为我们的工作建言献策。",
    "您好！经调查，您反映的问题涉及历史遗留问题，我单位已牵头召开协调会，明确了处理方案和时间节点，将持续跟踪推进，并及时向您反馈进展。",
    "您好！您举报的问题已转交执法部门依法调查。经查，相关违法行为已被依法查处，责令立即整改并处以罚款。感谢您的监督！",
];

pub fn reply<R: Rng>(rng: &mut R, kind: CaseKind, round: u32) -> String {
    let base = match kind {
        CaseKind::Consultation => REPLIES[2],
        CaseKind::Suggestion => REPLIES[3],
        CaseKind::Report => REPLIES[5],
        CaseKind::Praise => "您好！感谢您对我单位工作的肯定和鼓励！我们将继续践行以人民为中心的发展思想，努力为群众办好事、办实事。",
        _ => REPLIES[[0, 1, 4][rng.random_range(0..3)]],
    };
    if round > 0 {
        format!("（重办答复）{base}")
    } else {
        base.to_string()
    }
}

pub const REJECT_REASONS: &[&str] = &[
    "不属于本平台受理范围，已告知通过司法途径解决",
    "诉求内容不明确，无法核实，已告知补充后重新提交",
    "涉及诉讼程序中的事项，不予受理",
    "留言含有不文明用语",
    "同一诉求已在办理中",
];

pub const RATING_COMMENTS: &[&str] = &[
    "问题解决得很及时，非常满意！",
    "工作人员态度很好，谢谢！",
    "基本解决了，希望以后加强管理。",
    "回复太笼统，问题没有实际解决。",
    "处理太慢了，拖了很久。",
    "感谢领导重视！",
];

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn every_topic_fills_its_templates_without_leftover_placeholders() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let places = Places {
            place: "春熙路街道",
            county: "锦江区",
            city: "成都市",
        };
        for topic in TOPICS {
            assert!(
                !topic.issues.is_empty() && !topic.consult.is_empty() && !topic.suggest.is_empty()
            );
            for kind in CaseKind::ALL {
                for _ in 0..20 {
                    let text = compose(
                        &mut rng,
                        topic,
                        *kind,
                        &places,
                        Some("锦江区住房和城乡建设局"),
                    );
                    assert!(
                        !text.title.contains('{') && !text.body.contains('{'),
                        "{}",
                        text.title
                    );
                    assert!(text.title.chars().count() >= 6, "{}", text.title);
                }
            }
        }
    }
}
