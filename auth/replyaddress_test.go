package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReplyAddressNamesTheCaseUntilItExpires(t *testing.T) {
	a := ReplyAddresses{Secret: []byte(strings.Repeat("s", 32)), Domain: "Reply.Example.com"}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	addr := a.Address("CMP-20261123-4F7K2Q", now.Add(30*24*time.Hour))
	require.True(t, strings.HasPrefix(addr, "reply+cmp-20261123-4f7k2q."), addr)
	require.Equal(t, strings.ToLower(addr), addr, "lower case only: mail systems may fold it")

	ref, err := a.Parse(addr, now)
	require.NoError(t, err)
	require.Equal(t, "CMP-20261123-4F7K2Q", ref)
	ref, err = a.Parse(strings.ToUpper(addr), now) // a mail system folded the case
	require.NoError(t, err)
	require.Equal(t, "CMP-20261123-4F7K2Q", ref)

	_, err = a.Parse(addr, now.Add(31*24*time.Hour))
	require.ErrorIs(t, err, ErrReplyExpired)
	forged := strings.Replace(addr, "4f7k2q", "4f7k2r", 1) // another case, same signature
	_, err = a.Parse(forged, now)
	require.ErrorIs(t, err, ErrReplyForged)
	other := ReplyAddresses{Secret: []byte(strings.Repeat("t", 32)), Domain: a.Domain}
	_, err = other.Parse(addr, now)
	require.ErrorIs(t, err, ErrReplyForged, "signed with another secret")
	_, err = a.Parse("complaints@reply.example.com", now)
	require.ErrorIs(t, err, ErrNotReplyAddress)
	_, err = a.Parse(strings.Replace(addr, "reply.example.com", "evil.example.com", 1), now)
	require.ErrorIs(t, err, ErrReplyWrongDomain)
}
