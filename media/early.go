package media

import "context"

// EarlyTap hears the far end of a call being dialled before it is
// answered (early media: SIP 183 Session Progress with SDP), one 20 ms
// frame at a time: a network's announcement, a special information tone,
// ring-back. It runs on the media pacer's tick and must not block.
type EarlyTap func(pcm []int16)

type earlyKey struct{}

// WithEarlyTap is ctx for a dial whose early media tap hears. A
// signalling that cannot give early media ignores it.
func WithEarlyTap(ctx context.Context, tap EarlyTap) context.Context {
	return context.WithValue(ctx, earlyKey{}, tap)
}

// EarlyTapOf is the tap a dial's ctx carries, nil when none.
func EarlyTapOf(ctx context.Context) EarlyTap {
	tap, _ := ctx.Value(earlyKey{}).(EarlyTap)
	return tap
}
