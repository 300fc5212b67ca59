package mailout

import (
	"fmt"

	"github.com/postdesk/postdesk/threading"
)

// ErrBadAddress means an address is not one postdesk will put on the wire;
// it is threading.ErrBadAddress.
var ErrBadAddress = threading.ErrBadAddress

// checkAddress is the one rule for addresses postdesk puts on the wire
// (threading.CheckAddress); the desk applies the same rule earlier.
func checkAddress(addr string) error { return threading.CheckAddress(addr) }

// recipients checks every address of to and cc and returns them with each
// address kept once (compared by threading.AddressKey, first place wins),
// and all of them together: the envelope recipients.
func recipients(to, cc []string) (rcpts, toOut, ccOut []string, err error) {
	seen := map[string]bool{}
	add := func(list []string, out *[]string) error {
		for _, a := range list {
			if err := checkAddress(a); err != nil {
				return fmt.Errorf("recipient %w", err)
			}
			if key := threading.AddressKey(a); !seen[key] {
				seen[key] = true
				rcpts = append(rcpts, a)
				*out = append(*out, a)
			}
		}
		return nil
	}
	if err := add(to, &toOut); err != nil {
		return nil, nil, nil, err
	}
	if err := add(cc, &ccOut); err != nil {
		return nil, nil, nil, err
	}
	if len(rcpts) == 0 {
		return nil, nil, nil, fmt.Errorf("no recipient: %w", ErrBadAddress)
	}
	return rcpts, toOut, ccOut, nil
}
