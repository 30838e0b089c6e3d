package complaint

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Intake is what an upstream system, a call-centre tool or a web form submits:
// the registration fields of DOMAIN §1 step 2. The struct tags also describe
// the HTTP body, so the API's OpenAPI document and its validation come from
// this one type; Validate repeats the same rules for callers that do not go
// through HTTP (the CLI, the workflow).
type Intake struct {
	ExternalID     string         `json:"externalId,omitempty" maxLength:"128" doc:"The upstream system's own id for this complaint; makes the submission idempotent."`
	Source         string         `json:"source,omitempty" maxLength:"64" pattern:"^[a-z0-9][a-z0-9_-]*$" doc:"The upstream system that submitted the complaint; if it subscribes to webhooks, it hears of every change to the case."`
	Channel        Channel        `json:"channel" enum:"phone,email,chat,web,social,in_person,partner" doc:"Where the complaint came in."`
	Customer       Customer       `json:"customer"`
	Category       Category       `json:"category,omitempty" enum:"product_quality,service_attitude,after_sales,logistics,billing,information,process,legal,other" doc:"Classified from the text when absent."`
	Severity       Severity       `json:"severity,omitempty" enum:"low,medium,high,critical" doc:"How bad it is for the customer; medium when absent."`
	Subject        string         `json:"subject" minLength:"1" maxLength:"200"`
	Description    string         `json:"description" minLength:"1" maxLength:"10000"`
	OrderID        string         `json:"orderId,omitempty" maxLength:"128"`
	Product        string         `json:"product,omitempty" maxLength:"200"`
	DesiredOutcome DesiredOutcome `json:"desiredOutcome,omitempty" enum:"refund,replacement,repair,apology,compensation,explanation,other"`
	AlreadyTried   string         `json:"alreadyTried,omitempty" maxLength:"2000" doc:"What the customer already tried before complaining."`
	ReceivedBy     string         `json:"receivedBy,omitempty" maxLength:"128" doc:"The first-contact employee, who owns the case until the customer is satisfied."`
	OccurredAt     *time.Time     `json:"occurredAt,omitempty" doc:"When the problem happened."`
	Concerns       string         `json:"concerns,omitempty" maxLength:"128" doc:"The staff member the complaint is about: they can neither own, investigate nor close it."`
	Impact         *Impact        `json:"impact,omitempty" doc:"How far the problem reaches: many customers or a batch widen its scope and raise the priority."`
}

// Customer is the person who complained. Every field is personal data: it
// never goes into search attributes or logs.
type Customer struct {
	ID       string `json:"id,omitempty" maxLength:"128" doc:"The customer's id in the upstream system."`
	Name     string `json:"name" minLength:"1" maxLength:"200"`
	Email    string `json:"email,omitempty" maxLength:"254" format:"email"`
	Phone    string `json:"phone,omitempty" maxLength:"32" pattern:"^\\+?[0-9 ()./-]{3,32}$"`
	Language string `json:"language,omitempty" enum:"zh,en" doc:"Language of the messages we send; zh when absent."`
}

// FieldError names the offending field with a JSON pointer-like path
// ("body.customer.email"), so the API can point at it in a problem body.
type FieldError struct {
	Field   string
	Message string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// ValidationErrors is every problem found in one payload.
type ValidationErrors []FieldError

func (v ValidationErrors) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// AsValidationErrors unwraps err into the list of field errors, if it is one.
func AsValidationErrors(err error) (ValidationErrors, bool) {
	var v ValidationErrors
	ok := errors.As(err, &v)
	return v, ok
}

var (
	amountPattern     = regexp.MustCompile(`^[0-9]{1,9}(\.[0-9]{1,2})?$`)
	currencyPattern   = regexp.MustCompile(`^[A-Z]{3}$`)
	departmentPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,63}$`)
)

type checker struct{ errs ValidationErrors }

func (c *checker) add(field, format string, args ...any) {
	c.errs = append(c.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) text(field, value string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(value) == "":
		c.add(field, "is required")
	case utf8.RuneCountInString(value) > max:
		c.add(field, "is longer than %d characters", max)
	}
}

// department checks the shape of a department key; whether the case knows
// the department is the workflow's question, since departments are configured.
func (c *checker) department(d Department) {
	if !departmentPattern.MatchString(string(d)) {
		c.add("department", "must be a department key such as %s", strings.Join(names(Departments), ", "))
	}
}

func (c *checker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}

// sourcePattern is an upstream system's name, as webhook subscriptions key it.
var sourcePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidSystemName reports whether name can name an upstream system: API keys
// are issued to such names only, and a name without ':' or '@' keeps each
// system's idempotency keys apart from every other caller's.
func ValidSystemName(name string) bool { return sourcePattern.MatchString(name) }

// Validate checks the registration rules; it returns ValidationErrors.
func (in Intake) Validate() error {
	var c checker
	c.text("externalId", in.ExternalID, false, 128)
	if in.Source != "" && !sourcePattern.MatchString(in.Source) {
		c.add("source", "must be 1 to 64 lower-case letters, digits, _ or -, starting with a letter or digit")
	}
	if !in.Channel.Valid() {
		c.add("channel", "must be one of %s", strings.Join(names(Channels), ", "))
	}
	c.text("customer.id", in.Customer.ID, false, 128)
	c.text("customer.name", in.Customer.Name, true, 200)
	c.text("customer.email", in.Customer.Email, false, 254)
	c.text("customer.phone", in.Customer.Phone, false, 32)
	if in.Customer.Email != "" {
		if a, err := mail.ParseAddress(in.Customer.Email); err != nil || a.Address != in.Customer.Email {
			c.add("customer.email", "is not an email address")
		}
	}
	if in.Customer.Email == "" && in.Customer.Phone == "" {
		c.add("customer", "needs an email or a phone number to be reached")
	}
	if in.Customer.Language != "" && in.Customer.Language != "zh" && in.Customer.Language != "en" {
		c.add("customer.language", "must be zh or en")
	}
	if in.Category != "" && !in.Category.Valid() {
		c.add("category", "must be one of %s", strings.Join(names(Categories), ", "))
	}
	if in.Severity != "" && !in.Severity.Valid() {
		c.add("severity", "must be one of %s", strings.Join(names(Severities), ", "))
	}
	c.text("subject", in.Subject, true, 200)
	c.text("description", in.Description, true, 10000)
	c.text("orderId", in.OrderID, false, 128)
	c.text("product", in.Product, false, 200)
	if in.DesiredOutcome != "" && !in.DesiredOutcome.Valid() {
		c.add("desiredOutcome", "must be one of %s", strings.Join(names(DesiredOutcomes), ", "))
	}
	c.text("alreadyTried", in.AlreadyTried, false, 2000)
	// A system's agent is recorded as "system:name" (SystemAgent), the
	// system's name before the 128 characters a caller may send.
	receivedByMax := 128
	if IsSystemAgent(in.ReceivedBy) {
		receivedByMax = 64 + 1 + 128
	}
	c.text("receivedBy", in.ReceivedBy, false, receivedByMax)
	c.text("concerns", in.Concerns, false, 128)
	in.Impact.validate(&c)
	return c.err()
}

// Normalize fills the defaults a valid intake leaves open.
func (in Intake) Normalize() Intake {
	if in.Severity == "" {
		in.Severity = SeverityMedium
	}
	if in.Customer.Language == "" {
		in.Customer.Language = "zh"
	}
	return in
}
