package prodform

import "testing"

// The harness's client must compress as the form's processes do: they see
// the last value their environments give, AppEnv's over this process's.
func TestLastSettingIsWhatAProcessStartedWithTheEnvironmentsSees(t *testing.T) {
	const key = "TEMPORAL_GRPC_COMPRESSION"
	cases := []struct {
		name     string
		environs [][]string
		want     string
	}{
		{"unset", [][]string{{"PATH=/bin"}, {"LOG_LEVEL=warn"}}, ""},
		{"from this process", [][]string{{key + "=gzip"}, {"LOG_LEVEL=warn"}}, "gzip"},
		{"AppEnv over this process", [][]string{{key + "=gzip"}, {key + "=none"}}, "none"},
		{"the last of one environment", [][]string{{key + "=none", key + "=gzip"}}, "gzip"},
		{"a longer name is another setting", [][]string{{key + "_X=gzip"}}, ""},
	}
	for _, c := range cases {
		if got := lastSetting(key, c.environs...); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
