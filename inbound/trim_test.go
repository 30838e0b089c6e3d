package inbound

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTrimReplyKeepsTheNewWords(t *testing.T) {
	for name, c := range map[string]struct{ in, want string }{
		"gmail": {"Here is the photo.\r\nThanks\r\n\r\nOn Mon, 23 Nov 2026 at 10:00, Customer Care <complaints@example.com> wrote:\r\n> Dear Li Na,\r\n> we received your complaint",
			"Here is the photo.\nThanks"},
		"chinese client": {"照片已附上。\n\n在 2026年11月23日 10:00，客服中心 <complaints@example.com> 写道：\n> 您好", "照片已附上。"},
		"outlook":        {"See attached.\n\n-----Original Message-----\nFrom: Customer Care\nSent: Monday", "See attached."},
		"signature":      {"The label is torn.\n-- \nLi Na\n138 0000 0000", "The label is torn."},
		"phone":          {"Photo attached\n\nSent from my iPhone", "Photo attached"},
		"inline quotes":  {"> Which model?\nThe X2.\n> Since when?\nLast week.", "The X2.\nLast week."},
		"only quotes":    {"> Dear Li Na", "> Dear Li Na"},
	} {
		t.Run(name, func(t *testing.T) { require.Equal(t, c.want, TrimReply(c.in)) })
	}
}
