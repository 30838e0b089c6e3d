package inbound

import (
	"regexp"
	"strings"
)

// The customer's reply usually quotes our message under it and ends with a
// signature. Staff read the new words; the original is kept beside them.

// quoteHeaders start the quoted history: the attribution line of common
// mail clients in English and Chinese, Outlook's header block, a rule.
var quoteHeaders = []*regexp.Regexp{
	regexp.MustCompile(`(?i)^on .{4,200} wrote:\s*$`),
	regexp.MustCompile(`^在.{2,200}(写道|寫道)[:：]\s*$`),
	regexp.MustCompile(`(?i)^-{2,}\s*original message\s*-{2,}\s*$`),
	regexp.MustCompile(`^-{2,}\s*原始邮件\s*-{2,}\s*$`),
	regexp.MustCompile(`(?i)^(from|发件人|發件人)\s*[:：].+$`),
	regexp.MustCompile(`^_{10,}\s*$`),
}

// signatureStarts end the message: the RFC 3676 delimiter and the lines
// phones add.
var signatureStarts = []*regexp.Regexp{
	regexp.MustCompile(`^--\s?$`),
	regexp.MustCompile(`(?i)^sent from my \w+`),
	regexp.MustCompile(`^发自我的\S+`),
	regexp.MustCompile(`^(获取|取得) ?Outlook`),
}

// TrimReply is the new part of a reply: the text before the quoted history
// and the signature, without quoted lines. A reply that is nothing but
// quotes keeps its whole text, so no word is lost from view.
func TrimReply(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(text, "\n")
	var out []string
scan:
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		for _, re := range quoteHeaders {
			if re.MatchString(trimmed) {
				break scan
			}
		}
		for _, re := range signatureStarts {
			if re.MatchString(trimmed) {
				break scan
			}
		}
		if strings.HasPrefix(trimmed, ">") {
			continue
		}
		out = append(out, line)
	}
	kept := strings.TrimSpace(strings.Join(out, "\n"))
	if kept == "" {
		return strings.TrimSpace(text)
	}
	return kept
}
