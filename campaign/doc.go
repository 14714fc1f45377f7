// Package campaign is the box's outbound dialler: campaigns of contacts
// called in their own time zone's windows, each attempt written to the
// store and synced before its call goes out so that a crash never calls
// anyone twice (an attempt whose outcome is unknown goes to review), and,
// for agent-assisted campaigns, dialling ahead of the free agents only
// while the abandons it predicts fit the 3 % cap (Pacing).
//
// Layer: service; store, media, internal/clock.
package campaign
