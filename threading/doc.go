// Package threading decides which case a mail belongs to, from the mail alone.
//
// It formats and finds the case tag shown in subjects ("[Case #1042]"),
// normalises subjects (Re:/AW:/Fwd:/回复:/Réf: … prefixes), makes and checks
// the HMAC-signed Message-IDs of the mails postdesk sends (those sent to one
// recipient also prove who received them), extracts msg-ids
// from In-Reply-To and References headers, cuts quoted history and
// signatures from replies (failing closed for agents' replies to notices,
// CutAgentReply), and holds the one rule for which addresses
// postdesk will mail (CheckAddress), shared by the desk and mailout, and the
// one identity key by which addresses are compared (AddressKey). It has no
// state beyond what its constructors are given and imports the standard
// library only.
package threading
