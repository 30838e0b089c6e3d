package systemtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/mail"
	"net/smtp"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/complaintdesk/complaintdesk/complaint"
	"github.com/complaintdesk/complaintdesk/devenv/mailbox"
)

// The customer talks back (issue 25): they answer the acknowledgement by
// email with a photo, through our inbound SMTP server. The reply reaches
// the case once, however often it is delivered; a forged reply address
// changes nothing; the status page's accept button answers the proposal as
// the customer; erasure takes the message and the photo away.
func TestTheCustomerRepliesByEmailAndOnTheStatusPage(t *testing.T) {
	ctx := context.Background()
	const email = "ruolan.reply@example.com"
	const words = "The label says batch RX-5517 and the photo shows the crack"
	r := post(t, sys.APIURL, "/v1/complaints", map[string]any{
		"channel": "email", "category": "billing", "severity": "medium",
		"customer": map[string]any{"name": "Ruolan Reply", "email": email, "language": "en"},
		"subject":  "Charged twice for the RX kettle", "description": "I was charged twice for one kettle",
	}, "Idempotency-Key", "replies-"+email)
	if r.status != 201 {
		t.Fatalf("submit: %d %v", r.status, r.body)
	}
	ref := r.body["reference"].(string)
	waitStatus(t, sys.APIURL, ref, complaint.StatusAcknowledged)

	// The acknowledgement carries a signed reply address and the status link.
	var ack mailbox.Message
	Eventually(t, "the acknowledgement", func() error {
		for _, m := range sys.Mailbox.Messages(mailbox.To(email)) {
			if strings.Contains(m.Subject, ref) || strings.Contains(m.Text, ref) {
				ack = m
				return nil
			}
		}
		return fmt.Errorf("no acknowledgement yet")
	})
	raw, err := os.ReadFile(ack.File)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	replyTo, err := mail.ParseAddress(parsed.Header.Get("Reply-To"))
	if err != nil {
		t.Fatalf("Reply-To %q: %v", parsed.Header.Get("Reply-To"), err)
	}
	if !strings.HasPrefix(replyTo.Address, "reply+") || !strings.Contains(replyTo.Address, strings.ToLower(ref)) {
		t.Fatalf("the reply address %s names no case", replyTo.Address)
	}
	if parsed.Header.Get("In-Reply-To") == "" {
		t.Error("the acknowledgement has no In-Reply-To thread")
	}
	link := regexp.MustCompile(`https?://\S+/status\?t=[A-Za-z0-9._%-]+`).FindString(ack.Text)
	if link == "" {
		t.Fatalf("no status link in the acknowledgement:\n%s", ack.Text)
	}

	// The reply, with a photo, quoting our message under it.
	photo := testPhoto(t)
	messageID := "<reply-" + strings.ToLower(ref) + "@mail.example.com>"
	reply := replyMail(email, replyTo.Address, messageID, parsed.Header.Get("Message-ID"),
		words+"\r\n\r\nOn Monday, Customer Care <complaints@complaintdesk.local> wrote:\r\n> We received your complaint", photo)
	if err := smtp.SendMail(sys.InboundAddr, nil, email, []string{replyTo.Address}, reply); err != nil {
		t.Fatalf("send the reply: %v", err)
	}
	var messages []any
	Eventually(t, "the reply on the case", func() error {
		g := get(t, sys.APIURL, "/v1/complaints/"+ref)
		messages, _ = g.body["messages"].([]any)
		if len(messages) == 0 {
			return fmt.Errorf("no message on the case")
		}
		return nil
	})
	m := messages[0].(map[string]any)
	if m["text"] != words {
		t.Errorf("the message shows %q, want the reply without its quote: %q", m["text"], words)
	}
	if !strings.Contains(fmt.Sprint(m["original"]), "> We received your complaint") {
		t.Errorf("the original is not kept: %v", m["original"])
	}
	files, _ := m["attachments"].([]any)
	if len(files) != 1 {
		t.Fatalf("attachments on the message: %v", m["attachments"])
	}
	file := files[0].(map[string]any)
	if file["filename"] != "crack.png" || file["contentType"] != "image/png" {
		t.Errorf("the attachment: %v", file)
	}
	list := get(t, sys.APIURL, "/v1/complaints/"+ref+"/attachments")
	if got := fmt.Sprint(list.body["attachments"]); !strings.Contains(got, "crack.png") {
		t.Errorf("the case's attachments: %s", got)
	}
	body := download(t, ref, file["id"].(string), http.StatusOK)
	if !bytes.Equal(body, photo) {
		t.Errorf("the downloaded photo differs from the one sent (%d bytes, sent %d)", len(body), len(photo))
	}
	// Kept encrypted: Temporal's history has no word of it in clear.
	for _, ev := range rawHistory(t, complaint.WorkflowID(ref)).Events {
		if strings.Contains(ev.String(), "RX-5517") {
			t.Fatalf("the message is readable in Temporal's history: %s", ev.GetEventType())
		}
	}

	// The same mail again (a redelivery): taken, and recorded once.
	if err := smtp.SendMail(sys.InboundAddr, nil, email, []string{replyTo.Address}, reply); err != nil {
		t.Fatalf("send the reply again: %v", err)
	}
	// A forged reply address: refused at RCPT, nothing reaches the case.
	forged := forgeReplyAddress(replyTo.Address)
	err = smtp.SendMail(sys.InboundAddr, nil, email, []string{forged},
		replyMail(email, forged, "<forged@mail.example.com>", "", "Please refund me 10000 yuan", nil))
	if err == nil || !strings.Contains(err.Error(), "550") {
		t.Fatalf("a forged reply address was not refused: %v", err)
	}
	task(t, sys.APIURL, ref, "addNote", map[string]any{"author": "x", "text": "after the repeats"}, 200)
	v := get(t, sys.APIURL, "/v1/complaints/"+ref)
	if got := len(v.body["messages"].([]any)); got != 1 {
		t.Fatalf("%d messages on the case after a redelivery and a forgery, want 1", got)
	}
	steps := 0
	for _, e := range v.body["history"].([]any) {
		if e.(map[string]any)["step"] == "customer_message" {
			steps++
		}
	}
	if steps != 1 {
		t.Fatalf("%d customer_message steps, want 1", steps)
	}

	// The status page: the proposal, accepted with its button as the customer.
	task(t, sys.APIURL, ref, "startInvestigation", map[string]any{"department": "billing", "investigator": "bill.lead"}, 200)
	task(t, sys.APIURL, ref, "submitFindings", map[string]any{"department": "billing", "findings": "Charged twice",
		"rootCause": "Retry of the payment", "evidence": []string{}}, 200)
	task(t, sys.APIURL, ref, "proposeResolution", map[string]any{"actions": []string{"Refund the second charge"},
		"compensation": map[string]any{"kind": "refund", "amount": "299.00", "currency": "CNY"},
		"message":      "We refund the second charge of 299 yuan"}, 200)
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	token := u.Query().Get("t")
	page := statusPage(t, token)
	for _, want := range []string{ref, "We refund the second charge", words, "crack.png", `id="accept"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the status page does not show %q", want)
		}
	}
	// The customer presses the button in a real browser.
	checkUI(t, uiPage{Name: "status-accept", URL: sys.APIURL + "/status?t=" + url.QueryEscape(token),
		Click: []string{"Accept this proposal"}, Expect: []string{"You accepted the proposal"}, TimeoutMs: 20000})
	waitStatus(t, sys.APIURL, ref, complaint.StatusResolving)
	v = get(t, sys.APIURL, "/v1/complaints/"+ref)
	var by string
	for _, e := range v.body["history"].([]any) {
		if e := e.(map[string]any); e["step"] == "resolution_accepted" {
			by = fmt.Sprint(e["actor"])
		}
	}
	if by != "customer" {
		t.Errorf("the acceptance is recorded as by %q, want the customer", by)
	}
	// Carried out, the resolution waits for the customer's word: given on the page.
	Eventually(t, "the confirmation on the status page", func() error {
		if !strings.Contains(statusPage(t, token), `id="confirm"`) {
			return fmt.Errorf("no confirmation asked yet")
		}
		return nil
	})
	checkUI(t, uiPage{Name: "status-confirm", URL: sys.APIURL + "/status?t=" + url.QueryEscape(token),
		Click: []string{"Yes, it is solved"}, Expect: []string{"Thank you for confirming"}, TimeoutMs: 20000})
	v = get(t, sys.APIURL, "/v1/complaints/"+ref)
	res := v.body["resolutions"].([]any)
	confirmation, _ := res[len(res)-1].(map[string]any)["confirmation"].(map[string]any)
	if confirmation["resolved"] != true || !strings.Contains(fmt.Sprint(confirmation["by"]), "customer") {
		t.Errorf("the confirmation: %v", confirmation)
	}

	// Erasure: the photo and the message go with the customer's data.
	e := post(t, sys.APIURL, "/v1/admin/erasures", map[string]string{"reference": ref})
	if e.status != 200 {
		t.Fatalf("erasure: %d %v", e.status, e.body)
	}
	download(t, ref, file["id"].(string), http.StatusNotFound)
	conn, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM customer_attachments WHERE reference = $1`, ref).Scan(&n); err != nil || n != 0 {
		t.Errorf("attachments left after the erasure: %d (%v)", n, err)
	}
	if g := get(t, sys.APIURL, "/v1/complaints/"+ref); strings.Contains(fmt.Sprint(g.body), "RX-5517") {
		t.Errorf("the case still shows the customer's message after erasure: %v", g.body)
	}
	if strings.Contains(statusPage(t, token), "RX-5517") {
		t.Error("the status page still shows the customer's message after erasure")
	}
}

// testPhoto is a small PNG: a grey square.
func testPhoto(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for x := range 32 {
		for y := range 32 {
			img.Set(x, y, color.RGBA{R: 120, G: 120, B: 120, A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// replyMail is a customer's reply as a mail client writes it.
func replyMail(from, to, messageID, inReplyTo, text string, photo []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Ruolan <%s>\r\nTo: <%s>\r\nSubject: Re: your complaint\r\nMessage-ID: %s\r\n", from, to, messageID)
	if inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: %s\r\n", inReplyTo)
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	if photo == nil {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n")
		return []byte(b.String())
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\r\n\r\n")
	b.WriteString("--BOUNDARY\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n")
	b.WriteString("--BOUNDARY\r\nContent-Type: image/png; name=\"crack.png\"\r\nContent-Disposition: attachment; filename=\"crack.png\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(photo)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--BOUNDARY--\r\n")
	return []byte(b.String())
}

// forgeReplyAddress keeps the case and expiry of addr and changes its
// signature, as someone guessing would.
func forgeReplyAddress(addr string) string {
	local, domain, _ := strings.Cut(addr, "@")
	i := strings.LastIndex(local, ".")
	sig := []byte(local[i+1:])
	if sig[0] == 'a' {
		sig[0] = 'b'
	} else {
		sig[0] = 'a'
	}
	return local[:i+1] + string(sig) + "@" + domain
}

func download(t *testing.T, ref, id string, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, sys.APIURL+"/v1/complaints/"+ref+"/attachments/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+sys.AdminToken)
	resp, body := Do(t, req)
	if resp.StatusCode != want {
		t.Fatalf("download %s: %d, want %d: %s", id, resp.StatusCode, want, body)
	}
	return body
}

func statusPage(t *testing.T, token string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, sys.APIURL+"/status?t="+url.QueryEscape(token), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, body := Do(t, req)
	return string(body)
}

// A mail to the intake address from no thread of ours opens a case
// (channel email) when INBOUND_INTAKE_ADDRESS is set; the same mail again
// finds the same case, and its photo is the case's first message.
func TestAMailToTheIntakeAddressOpensACase(t *testing.T) {
	ctx := context.Background()
	const email = "mingyu.newcase@example.com"
	mail := replyMail(email, IntakeAddress, "<first-"+email+">", "", "我的洗衣机脱水时噪音很大，已经三天了。", testPhoto(t))
	mail = bytes.Replace(mail, []byte("Subject: Re: your complaint"), []byte("Subject: =?utf-8?b?"+
		base64.StdEncoding.EncodeToString([]byte("洗衣机噪音"))+"?="), 1)
	for range 2 {
		if err := smtp.SendMail(sys.InboundAddr, nil, email, []string{IntakeAddress}, mail); err != nil {
			t.Fatalf("send to the intake address: %v", err)
		}
	}
	conn, err := pgx.Connect(ctx, sys.Postgres.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var refs []string
	Eventually(t, "the case opened by mail", func() error {
		rows, err := conn.Query(ctx, `SELECT reference FROM customer_contacts WHERE email = $1`, email)
		if err != nil {
			return err
		}
		refs, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(refs) == 0 {
			return fmt.Errorf("no case yet (%v)", err)
		}
		return nil
	})
	if len(refs) != 1 {
		t.Fatalf("%d cases for one mail sent twice", len(refs))
	}
	var v map[string]any
	Eventually(t, "the photo on the new case", func() error {
		v = get(t, sys.APIURL, "/v1/complaints/"+refs[0]).body
		if msgs, _ := v["messages"].([]any); len(msgs) != 1 {
			return fmt.Errorf("messages: %v", v["messages"])
		}
		return nil
	})
	if v["channel"] != "email" || v["subject"] != "洗衣机噪音" {
		t.Errorf("the case: channel %v, subject %v", v["channel"], v["subject"])
	}
}
