package mailbox

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/smtp"
	"os"
	"sync"
	"testing"
)

// Senders at once each get their message kept, as a file and in the list,
// and the list stays in the order the messages were numbered.
func TestConcurrentSendersAreAllKeptInOrder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s, err := Start(ctx, "127.0.0.1:0", "", t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	const senders, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, senders*each)
	for i := range senders {
		wg.Go(func() {
			for j := range each {
				to := fmt.Sprintf("customer-%d-%d@example.com", i, j)
				msg := fmt.Sprintf("From: desk@example.com\r\nTo: %s\r\nSubject: case %d-%d\r\nMessage-ID: <%d.%d@example.com>\r\n\r\nHello\r\n", to, i, j, i, j)
				errs <- smtp.SendMail(s.SMTPAddr(), nil, "desk@example.com", []string{to}, []byte(msg))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := s.Messages(nil)
	if len(got) != senders*each {
		t.Fatalf("kept %d messages, want %d", len(got), senders*each)
	}
	seen := map[string]bool{}
	for i, m := range got {
		if m.Seq != i+1 {
			t.Fatalf("message %d has number %d: the list is not in the order of numbering", i, m.Seq)
		}
		if _, err := os.Stat(m.File); err != nil {
			t.Fatalf("message %d: %v", m.Seq, err)
		}
		seen[m.Subject] = true
	}
	if len(seen) != senders*each {
		t.Fatalf("%d distinct messages kept, want %d", len(seen), senders*each)
	}
}
