package route

import (
	"fmt"
	"slices"
	"strings"
)

// Class is what kind of call a dialled number is, for toll-fraud rules:
// the box dials out only the classes its config allows.
type Class string

// The dial classes. Numbers are as dialled in China, the box's home
// numbering, from the MIIT numbering plan (电信网编码号码计划, 2017 edition)
// and ITU-T E.164's assignment of country code 86:
//
//   - 00 is the international prefix, and "+" stands for it;
//   - 0 is the national (trunk) prefix before a 2- or 3-digit area code
//     and a 7- or 8-digit subscriber number (010 Beijing, 0755 Shenzhen);
//   - mobile numbers are 11 digits beginning 13-19 (MIIT 1xx ranges,
//     among them 166, 17x and 19x);
//   - 400 and 800 numbers are 10 digits, toll-free or shared-cost;
//   - 110 (police), 119 (fire), 120 (ambulance), 122 (traffic) and 112
//     are emergency numbers, always allowed;
//   - information services billed to the caller (声讯台) are the short 160
//     and 168 numbers (1600-1609, 1680-1689 and what follows, shorter than
//     a mobile number), and 00 + a premium range abroad falls under
//     international anyway.
const (
	Internal      Class = "internal"      // one of the box's extensions
	Emergency     Class = "emergency"     // 110, 119, 120, 122, 112
	Local         Class = "local"         // 7-8 digits, no prefix; also carriers' service numbers (10000, 95xxx)
	National      Class = "national"      // 0 + area code + number
	Mobile        Class = "mobile"        // 1[3-9] + 9 digits
	TollFree      Class = "tollfree"      // 400 / 800 + 7 digits
	International Class = "international" // 00 or +
	Premium       Class = "premium"       // 160x / 168x information services
	Short         Class = "short"         // 2-6 digits otherwise unclassified: a peer PBX's extensions over PRI/QSIG, short codes
	Unknown       Class = "unknown"       // anything else: never dialled
)

// Classes lists every class, for config validation.
var Classes = []Class{Internal, Emergency, Local, National, Mobile, TollFree, International, Premium, Short}

// DefaultClasses are what the box dials out when the config says nothing:
// everything but international and premium numbers, the two that toll
// fraud pays for.
var DefaultClasses = []Class{Internal, Emergency, Local, National, Mobile, TollFree, Short}

// Classify says what class a number dialled from the box is; internal when
// isExt says it is one of the box's extensions.
func Classify(number string, isExt func(string) bool) Class {
	if isExt != nil && isExt(number) {
		return Internal
	}
	if strings.HasPrefix(number, "+") {
		return International
	}
	if number == "" || strings.Trim(number, "0123456789") != "" {
		return Unknown
	}
	n := len(number)
	switch {
	case slices.Contains([]string{"110", "119", "120", "122", "112"}, number):
		return Emergency
	case strings.HasPrefix(number, "00"):
		return International
	case number[0] == '0':
		if n >= 10 && n <= 12 && number[1] != '0' {
			return National
		}
		return Unknown
	case n == 11 && number[0] == '1' && number[1] >= '3' && number[1] <= '9':
		return Mobile
	case (strings.HasPrefix(number, "160") || strings.HasPrefix(number, "168")) && n >= 4 && n < 11:
		return Premium
	case n == 10 && (strings.HasPrefix(number, "400") || strings.HasPrefix(number, "800")):
		return TollFree
	case (n == 7 || n == 8) && number[0] >= '2':
		return Local
	case n == 5 && (strings.HasPrefix(number, "100") || strings.HasPrefix(number, "95") || strings.HasPrefix(number, "96")):
		return Local // carriers' and utilities' service numbers: 10000, 10086, 95588
	case n >= 2 && n <= 6 && number[0] != '1':
		return Short
	}
	return Unknown
}

// ErrDialDenied is the refusal of a number the rules do not let out.
type ErrDialDenied struct {
	Number string
	Class  Class
	Why    string
}

func (e *ErrDialDenied) Error() string {
	return fmt.Sprintf("dialling %s is not allowed: %s", e.Number, e.Why)
}
