package desk

import (
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// langs are the desk's languages; the first is the default.
var langs = []language.Tag{language.English, language.Chinese}

var matcher = language.NewMatcher(langs)

// preferredLang is the browser's choice among ours (Accept-Language).
func preferredLang(r *http.Request) string {
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return "en"
	}
	_, i, _ := matcher.Match(tags...)
	return langOf(langs[i].String())
}

// langOf is zh or en for a locale (zh-CN, en-GB ...), empty when neither.
func langOf(locale string) string {
	switch l := strings.ToLower(locale); {
	case strings.HasPrefix(l, "zh"):
		return "zh"
	case strings.HasPrefix(l, "en"):
		return "en"
	}
	return ""
}

// messages are the desk's words; a key missing in zh falls back to en,
// one missing in both is shown as it is (a status, a task name).
var messages = map[string]map[string]string{
	"en": {
		"desk": "Complaint desk", "signout": "Sign out", "signin": "Sign in", "language": "Language",
		"zone": "Time zone", "save": "Save",
		"queue.mine": "My cases", "queue.department": "My departments", "queue.desk": "Awaiting a person",
		"queue.due": "Due soon", "queue.breached": "Breached", "queue.waiting": "Waiting on the customer", "queue.followups": "Follow-ups",
		"queue.search": "Search",
		"filter.q":     "Reference, order or subject", "filter.category": "Category", "filter.priority": "Priority",
		"filter.status": "Status", "filter.owner": "Owner", "filter.department": "Department", "filter.apply": "Filter",
		"filter.bydeadline": "By deadline", "any": "any",
		"filter.escalated": "escalated", "filter.repeat": "repeat complaints", "filter.resolved": "resolved",
		"filter.score": "satisfaction", "filter.clock": "breached clock", "filter.rootCause": "root cause",
		"filter.clear":  "Clear the report's filters",
		"col.reference": "Reference", "col.subject": "Subject", "col.status": "Status", "col.priority": "Priority",
		"col.owner": "Owner", "col.departments": "Departments", "col.next": "Next deadline", "col.received": "Received",
		"none":        "No cases.",
		"case.status": "Status", "case.priority": "Priority", "case.owner": "Owner", "case.channel": "Channel",
		"case.category": "Category", "case.repeat": "Repeats", "case.waiting": "Waiting on the customer",
		"case.escalation": "Escalation level", "case.received": "Received", "case.order": "Order",
		"case.clocks": "Clocks", "case.departments": "Departments", "case.proposals": "Proposals and answers",
		"case.timeline": "Timeline", "case.messages": "Messages sent", "case.tasks": "Tasks", "case.notnow": "Not possible now",
		"case.tasksUnavailable": "The tasks could not be read just now; the page tries again by itself.",
		"case.customerMessages": "From the customer", "case.original": "The whole message as received",
		"via.email": "by email", "via.status_page": "on the status page", "via.": "by email",
		"case.changed": "This case has changed.", "case.reload": "Reload",
		"clock.name": "Clock", "clock.due": "Due", "clock.state": "State", "clock.left": "Time left",
		"dept.state": "State", "dept.investigator": "Investigator", "dept.findings": "Findings", "dept.rootcause": "Root cause",
		"prop.by": "Proposed by", "prop.answer": "Answer", "prop.accepted": "accepted", "prop.rejected": "rejected",
		"prop.pending": "no answer yet", "prop.approval": "Approval",
		"prop.awaiting": "awaits a supervisor's approval: above the limit",
		"task.submit":   "Submit", "task.done": "Done:", "required": "required",
		"notfound": "There is no such case, or it is not yours to see.", "back": "Back to the queues",
		"signedout": "You are signed out.", "sign-in.expired": "This sign-in has expired; start again.",
		"sign-in.unavailable": "The sign-in service does not answer; try again shortly.",
		"sign-in.failed":      "The sign-in could not be completed; start again.",
		"sign-in.refused":     "The sign-in was refused.",
		"sign-in.norole":      "Your account holds no role of the complaint desk; ask your administrator.",
		"error":               "Something went wrong; try again.",
		"busy":                "The case service is busy just now; this page tries again by itself.",
		"busy.post":           "The case service is busy just now; nothing was sent. Send it again here when you are ready.",
		"busy.unknown":        "The case service is busy just now: what you sent may or may not have been applied. Send it again here: it is never applied twice.",
		"busy.resend":         "Send again",
		"busy.refused":        "What you sent was refused, and the case cannot be shown just now; go back to it and try again. The refusal:",
		"case.stale":          "The case could not be refreshed just now; what you see may be out of date. The page keeps trying.",
	},
	"zh": {
		"desk": "投诉处理台", "signout": "退出登录", "signin": "登录", "language": "语言", "zone": "时区", "save": "保存",
		"queue.mine": "我的投诉", "queue.department": "本部门", "queue.desk": "待分配", "queue.due": "即将到期",
		"queue.breached": "已超时", "queue.waiting": "等待客户", "queue.followups": "回访跟进", "queue.search": "搜索",
		"filter.q": "编号、订单或主题", "filter.category": "类别", "filter.priority": "优先级", "filter.status": "状态",
		"filter.owner": "负责人", "filter.department": "部门", "filter.apply": "筛选", "filter.bydeadline": "按截止时间",
		"filter.escalated": "已升级", "filter.repeat": "重复投诉", "filter.resolved": "已解决",
		"filter.score": "满意度", "filter.clock": "超时时限", "filter.rootCause": "根本原因",
		"filter.clear":  "清除报表筛选",
		"any":           "全部",
		"col.reference": "编号", "col.subject": "主题", "col.status": "状态", "col.priority": "优先级",
		"col.owner": "负责人", "col.departments": "部门", "col.next": "下一截止", "col.received": "受理时间",
		"none":        "没有投诉。",
		"case.status": "状态", "case.priority": "优先级", "case.owner": "负责人", "case.channel": "渠道",
		"case.category": "类别", "case.repeat": "重复投诉", "case.waiting": "等待客户", "case.escalation": "升级级别",
		"case.received": "受理时间", "case.order": "订单", "case.clocks": "时限", "case.departments": "部门进展",
		"case.proposals": "方案与答复", "case.timeline": "处理记录", "case.messages": "已发送消息", "sent": "已发送", "failed": "发送失败", "case.tasks": "任务", "case.notnow": "当前不可执行",
		"case.tasksUnavailable": "暂时无法读取任务，页面会自动重试。",
		"case.customerMessages": "客户来信", "case.original": "收到的完整邮件",
		"via.email": "邮件", "via.status_page": "进度查询页", "via.": "邮件",
		"case.changed": "此投诉已更新。", "case.reload": "刷新",
		"clock.name": "时限", "clock.due": "到期", "clock.state": "状态", "clock.left": "剩余时间",
		"dept.state": "状态", "dept.investigator": "调查人", "dept.findings": "调查结果", "dept.rootcause": "根本原因",
		"prop.by": "提出人", "prop.answer": "答复", "prop.accepted": "已接受", "prop.rejected": "已拒绝",
		"prop.pending": "尚未答复", "prop.approval": "审批", "prop.awaiting": "超出限额，待主管审批",
		"task.submit": "提交", "task.done": "已完成：", "required": "必填",
		"notfound": "没有这个投诉，或您无权查看。", "back": "返回列表",
		"signedout": "您已退出登录。", "sign-in.expired": "登录已过期，请重新开始。",
		"sign-in.unavailable": "登录服务暂时无响应，请稍后再试。", "sign-in.failed": "登录未能完成，请重新开始。",
		"sign-in.refused": "登录被拒绝。", "sign-in.norole": "您的账号没有投诉处理台的角色，请联系管理员。",
		"error":        "出错了，请重试。",
		"busy":         "系统暂时繁忙，页面会自动重试。",
		"busy.post":    "系统暂时繁忙，表单未提交。准备好后请在此重新提交。",
		"busy.unknown": "系统暂时繁忙，您提交的内容可能已生效，也可能未生效。请在此重新提交：不会重复生效。",
		"busy.resend":  "重新提交",
		"busy.refused": "您提交的内容被拒绝，且暂时无法显示此投诉，请返回后重试。拒绝原因：",
		"case.stale":   "暂时无法刷新此投诉，显示的内容可能已过时，页面会继续重试。",
		"assign":       "转交", "route": "分派部门", "startInvestigation": "开始调查", "submitFindings": "提交调查结果",
		"proposeResolution": "提出解决方案", "customerResponse": "客户答复", "waitingOnCustomer": "等待客户",
		"customerReplied": "客户已回复", "escalateDispute": "升级争议", "close": "结案", "reopen": "重新打开",
		"withdraw": "撤诉", "surveyResponse": "满意度回访", "addNote": "添加备注", "approveCompensation": "审批补偿",
		"confirmResolved": "确认已解决", "applyPolicy": "重新应用时限政策",
		"received": "已受理", "acknowledged": "已确认", "investigating": "调查中", "resolution_proposed": "已提出方案",
		"in_dispute": "争议中", "resolving": "执行中", "closed": "已结案", "survey_pending": "待回访",
		"completed": "已完成", "withdrawn": "已撤诉",
		"low": "低", "medium": "中", "high": "高", "critical": "紧急",
		"running": "进行中", "met": "已达成", "breached": "已超时", "paused": "已暂停", "stopped": "已停止",
		"pending": "待开始", "reported": "已报告",
	},
}

// translate is key in lang.
func translate(lang, key string) string {
	if m, ok := messages[lang][key]; ok {
		return m
	}
	if m, ok := messages["en"][key]; ok {
		return m
	}
	return key
}
