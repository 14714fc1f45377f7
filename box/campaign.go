package box

import (
	"cmp"
	"slices"
	"time"

	"jinyin/acd"
	"jinyin/campaign"
	"jinyin/config"
	"jinyin/ivr"
	"jinyin/media"
	"jinyin/media/prompt"
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
		},
		Agents: campaignAgents{b.acd}, Sorry: b.campaignSorry})
	return err
}

// campaignAgents are the queues of agent-assisted campaigns.
type campaignAgents struct{ d *acd.ACD }

func (a campaignAgents) Staff(queue string) (int, int) { return a.d.Staff(queue) }

func (a campaignAgents) Connect(ch media.Channel, queue, number string, data map[string]string, within time.Duration) (time.Duration, error) {
	return a.d.Connect(ch, queue, acd.Caller{Call: ch.ID(), Number: number, Data: data, Within: within})
}

// campaignSorry tells a person an agent-assisted campaign found no agent
// for who called (the campaign's abandon_prompt, else the prompt
// campaign-caller, which an operator replaces with their own company's
// name: PUT /prompts/{lang}/campaign-caller) and the number to call back,
// digit by digit, and waits until it is said.
func (b *Box) campaignSorry(ch media.Channel, c config.Campaign) {
	ids := []string{cmp.Or(c.AbandonPrompt, "campaign-caller"), "campaign-abandoned"}
	number := cmp.Or(c.CallbackNumber, c.CallerID)
	if digits, err := prompt.Digits(number); err == nil {
		ids = append(ids, digits...)
	}
	p, err := b.prompts.Player(b.cfg.Box.Language, ids...)
	if err != nil {
		b.log.Warn("campaign: abandon_prompt cannot be played; the message goes without it", "campaign", c.Name, "prompt", ids[0], "err", err)
		p, err = b.prompts.Player(b.cfg.Box.Language, ids[1:]...)
	}
	if err != nil {
		b.log.Error("campaign: the abandoned call's message cannot be played", "campaign", c.Name, "err", err)
		return
	}
	media.PlayToEnd(ch, p)
}
