package desk

import (
	"strings"
	"time"

	"github.com/postdesk/postdesk/desk/calendar"
)

// Plan is what a support plan allows (DESIGN §4, after AWS Support).
type Plan struct {
	// MaxSeverity caps the severity a customer may ask for.
	MaxSeverity Severity
	// Technical says whether technical cases are accepted; without it the
	// sender of a technical mail gets a polite refusal and no case.
	Technical bool
	// Contacts is how many additional contacts a case may have.
	Contacts int
	// BusinessHours makes first-response targets count only in business
	// hours in the customer's time zone; otherwise they count 24/7.
	BusinessHours bool
	// CriticalTarget replaces the critical target (enterprise-on-ramp: 30 min).
	CriticalTarget time.Duration
}

// defaultPlans are the five plans of DESIGN §4.
func defaultPlans() map[string]Plan {
	return map[string]Plan{
		"basic":              {MaxSeverity: SeverityNormal, Technical: false, Contacts: 0, BusinessHours: true},
		"developer":          {MaxSeverity: SeverityNormal, Technical: true, Contacts: 0, BusinessHours: true},
		"business":           {MaxSeverity: SeverityUrgent, Technical: true, Contacts: 5},
		"enterprise-on-ramp": {MaxSeverity: SeverityCritical, Technical: true, Contacts: 5, CriticalTarget: 30 * time.Minute},
		"enterprise":         {MaxSeverity: SeverityCritical, Technical: true, Contacts: 5},
	}
}

// Customer maps senders to a plan, a language and a time zone.
type Customer struct {
	// Match is a whole address ("alice@acme.example") or a domain
	// ("@acme.example", that domain only, not its subdomains). An address
	// match wins over a domain match.
	Match    string
	Plan     string         // "" = the default plan
	Language string         // "" = detect, then the default language
	Location *time.Location // nil = the desk's time zone
}

// customerTerms are the plan, language and hours that apply to a sender.
type customerTerms struct {
	planName string
	plan     Plan
	language string
	hours    calendar.Hours
}

// terms finds the terms of addr: its [[customer]] entry, else the defaults.
func (d *Desk) terms(addr string) customerTerms {
	addr = addrKey(addr)
	var match *Customer
	for i := range d.o.Customers {
		c, m := &d.o.Customers[i], d.customerKeys[i]
		if m == addr {
			match = c
			break
		}
		if strings.HasPrefix(m, "@") && strings.HasSuffix(addr, m) && match == nil {
			match = c
		}
	}
	t := customerTerms{planName: d.o.DefaultPlan, hours: d.o.Hours}
	if match != nil {
		if match.Plan != "" {
			t.planName = match.Plan
		}
		t.language = match.Language
		if match.Location != nil {
			t.hours.Location = match.Location
		}
	}
	t.plan = d.o.Plans[t.planName]
	if !t.plan.BusinessHours {
		t.hours = calendar.Hours{Always: true}
	}
	return t
}

// grant returns the severity a plan gives for a request: the request capped
// at the plan's maximum, normal when nothing (or nothing known) was asked.
func (p Plan) grant(asked Severity) Severity {
	s := asked
	if s == "" {
		s = SeverityNormal
	}
	if max := p.MaxSeverity; max != "" && s.rank() > max.rank() {
		s = max
	}
	return s
}

// target is the first-response target of a severity under the plan.
func (d *Desk) target(p Plan, severity Severity) time.Duration {
	if severity == SeverityCritical && p.CriticalTarget > 0 {
		return p.CriticalTarget
	}
	return d.o.Targets[severity]
}
