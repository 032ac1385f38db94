package sqlitedb

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestDecodeStrings(t *testing.T) {
	for _, in := range [][]string{
		{"pwd"}, {"pwd", "otp"}, {"a,b", ""}, {`quo"te`}, {`back\slash`}, {"ü", "\u2028"}, {"tab\t"}, {"", ""},
	} {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeStrings(string(b))
		if err != nil || !slices.Equal(got, in) {
			t.Errorf("DecodeStrings(%s) = %q, %v; want %q", b, got, err, in)
		}
	}
	for in, want := range map[string][]string{`[]`: nil, `[ ]`: nil, `["a", "b"]`: {"a", "b"}, `null`: nil} {
		got, err := DecodeStrings(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("DecodeStrings(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{``, `[`, `["a"`, `["a",]`, `[1]`, `{"a":"b"}`} {
		if got, err := DecodeStrings(in); err == nil {
			t.Errorf("DecodeStrings(%s) = %q, want an error", in, got)
		}
	}
}
