package complaint

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A compensation above its currency's limit needs approval; at the limit,
// or in a currency without one, it does not (README: CNY 500 by default).
func TestCompensationLimits(t *testing.T) {
	l := DefaultCompensationLimits()
	require.Equal(t, "500 CNY", l.Above(Compensation{Kind: "refund", Amount: "500.01", Currency: "CNY"}))
	require.Empty(t, l.Above(Compensation{Kind: "refund", Amount: "500", Currency: "CNY"}))
	require.Empty(t, l.Above(Compensation{Kind: "refund", Amount: "499.99", Currency: "CNY"}))
	require.Empty(t, l.Above(Compensation{Kind: "apology"}))
	require.Empty(t, l.Above(Compensation{Kind: "refund", Amount: "90000", Currency: "JPY"}), "no limit for JPY")

	parsed, err := ParseCompensationLimits(" CNY=1000 , JPY=20000.50", l)
	require.NoError(t, err)
	require.Equal(t, CompensationLimits{"CNY": "1000", "JPY": "20000.50"}, parsed)
	require.Equal(t, "CNY=1000,JPY=20000.50", parsed.String())
	same, err := ParseCompensationLimits("", l)
	require.NoError(t, err)
	require.Equal(t, l, same)
	for _, bad := range []string{"CNY", "cny=5", "CNY=-5", "CNY=5.555", "CNY=five"} {
		_, err := ParseCompensationLimits(bad, l)
		require.Error(t, err, bad)
	}
	cents, ok := Cents("199.9")
	require.True(t, ok)
	require.EqualValues(t, 19990, cents)
}

func TestFollowUpPayloadsNameTheirFields(t *testing.T) {
	fields := func(err error) []string {
		v, ok := AsValidationErrors(err)
		require.True(t, ok, "%v", err)
		var out []string
		for _, e := range v {
			out = append(out, e.Field)
		}
		return out
	}
	require.Equal(t, []string{"approved"}, fields(ApproveCompensation{}.Validate()))
	refuse := false
	require.Equal(t, []string{"note"}, fields(ApproveCompensation{Approved: &refuse}.Validate()), "a refusal says why")
	require.Equal(t, []string{"resolved"}, fields(ConfirmResolved{}.Validate()))
	require.Equal(t, []string{"summary"}, fields(CompleteFollowUp{}.Validate()))
	in := Intake{Channel: ChannelWeb, Customer: Customer{Name: "A", Email: "a@example.com"}, Subject: "s", Description: "d",
		Impact: &Impact{AffectedCustomers: -1}}
	require.Equal(t, []string{"impact.affectedCustomers"}, fields(in.Validate()))
}
