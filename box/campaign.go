package box

import (
	"slices"

	"jinyin/campaign"
	"jinyin/config"
	"jinyin/ivr"
	"jinyin/media"
	"jinyin/store"
)

// doNotCall is the subscription list a caller joins to stop the
// campaigns' calls (an IVR subscribe node, "press 9 to stop these
// calls").
const doNotCall = "do-not-call"

// openCampaigns wires the outbound campaigns: dialled through the dial
// plan's trunk groups (and its toll rules), a contact who answers taken
// through the campaign's flow.
func (b *Box) openCampaigns() error {
	if len(b.cfg.Campaigns) == 0 {
		return nil
	}
	var err error
	b.campaigns, err = campaign.New(campaign.Options{Clock: b.clock, Log: b.log, DB: b.db, Campaigns: b.cfg.Campaigns,
		Location: b.cfg.Location(), From: b.cfg.Box.Name, Dial: b.plan.DialOut,
		Answered: func(ch media.Channel, c config.Campaign, ct store.Contact) map[string]string {
			return b.ivr.Run(ch, c.Flow, ivr.CallInfo{Caller: ct.Number, Dialled: c.Name, Outside: true, Vars: ct.Vars})
		},
		DoNotCall: func(number string) bool {
			subs, err := b.db.Subscribers(doNotCall)
			return err == nil && slices.Contains(subs, number)
		}})
	return err
}
