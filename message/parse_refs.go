package message

import "fmt"

// lastReferences is how many of the last References a parsed message
// keeps, after the first: a mail with 14,000 of them must not have them
// all copied into stored rows and into every answer and refusal.
const lastReferences = 40

// capIDs keeps, in parse order, the first `first` and the last `last`
// message ids of an In-Reply-To or References field, and notes a defect
// when it drops any. RFC 5322 §3.6.4: the first of References is the
// thread's root, the last the parent, so a reply's References made from
// what is kept still holds both; Netnews followup agents trim them the
// same way, from the second id on (RFC 5537). The desk looks for its own
// ids among them (threading), which a reply carries near the end.
func capIDs(ids []string, first, last int, field string, defects *[]string) []string {
	if len(ids) <= first+last {
		return ids
	}
	*defects = append(*defects, fmt.Sprintf("%s holds %d message ids, kept the first %d and the last %d",
		field, len(ids), first, last))
	out := make([]string, 0, first+last)
	out = append(out, ids[:first]...)
	return append(out, ids[len(ids)-last:]...)
}
