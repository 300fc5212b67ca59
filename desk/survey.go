package desk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/postdesk/postdesk/store"
)

// ErrBadToken means a survey link was not made by this desk or was changed.
var ErrBadToken = errors.New("not a valid survey link")

// SurveyToken is what a signed survey link says: a rating of a case (Message
// 0: the closing survey) or of one agent's answer.
type SurveyToken struct {
	Case    int64
	Message int64
	Rating  int
}

var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// sign returns the token text "case.message.rating.mac".
func (d *Desk) sign(t SurveyToken) string {
	payload := fmt.Sprintf("%d.%d.%d", t.Case, t.Message, t.Rating)
	mac := hmac.New(sha256.New, d.o.SurveyKey)
	mac.Write([]byte("postdesk survey " + payload))
	return payload + "." + strings.ToLower(tokenEncoding.EncodeToString(mac.Sum(nil)[:15]))
}

// ParseSurveyToken checks a token from a survey link.
func (d *Desk) ParseSurveyToken(token string) (SurveyToken, error) {
	parts := strings.Split(token, ".")
	if len(d.o.SurveyKey) == 0 || len(parts) != 4 {
		return SurveyToken{}, ErrBadToken
	}
	var t SurveyToken
	var err1, err2, err3 error
	t.Case, err1 = strconv.ParseInt(parts[0], 10, 64)
	t.Message, err2 = strconv.ParseInt(parts[1], 10, 64)
	t.Rating, err3 = strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || t.Rating < 1 || t.Rating > 5 {
		return SurveyToken{}, ErrBadToken
	}
	if !hmac.Equal([]byte(d.sign(t)), []byte(token)) {
		return SurveyToken{}, ErrBadToken
	}
	return t, nil
}

// surveyLinks returns the five rating links (1 to 5) for case n, or for one
// agent's answer when message is not 0; nil without a SurveyURL.
func (d *Desk) surveyLinks(n, message int64) []string {
	if d.o.SurveyURL == "" {
		return nil
	}
	links := make([]string, 5)
	for r := 1; r <= 5; r++ {
		links[r-1] = d.o.SurveyURL + d.sign(SurveyToken{Case: n, Message: message, Rating: r})
	}
	return links
}

// SurveyPage is what the survey page shows about the case being rated.
type SurveyPage struct {
	Token    SurveyToken
	Tag      string
	Subject  string
	Language string
}

// Survey checks a survey link and returns what its page shows.
func (d *Desk) Survey(ctx context.Context, token string) (SurveyPage, error) {
	t, err := d.ParseSurveyToken(token)
	if err != nil {
		return SurveyPage{}, err
	}
	c, err := d.db.Case(ctx, t.Case)
	if err != nil {
		return SurveyPage{}, err
	}
	return SurveyPage{Token: t, Tag: d.tag.Format(c.ID), Subject: c.Subject, Language: c.Language}, nil
}

// AnswerSurvey records the rating of a signed link with an optional
// comment. A later answer replaces the earlier one (both are kept); an
// answer never reopens the case.
func (d *Desk) AnswerSurvey(ctx context.Context, token, comment string) error {
	t, err := d.ParseSurveyToken(token)
	if err != nil {
		return err
	}
	hash := fmt.Sprintf("%x", sha256.Sum256([]byte(token)))
	over := false
	err = d.onCase(ctx, t.Case, func(tx *store.Tx, c *store.Case, now time.Time) error {
		// Over the limit, nothing is written: a flood costs no disk.
		key, window := "survey:"+hash, now.Truncate(time.Minute)
		n, err := tx.Count(key, window)
		if err != nil || n >= surveyAnswersPerMinute {
			over = err == nil
			return err
		}
		if _, err := tx.Bump(key, window); err != nil {
			return err
		}
		return d.rate(tx, c, t.Message, t.Rating, comment, "web", hash, now)
	})
	if err == nil && over {
		err = fmt.Errorf("survey link of case %d: %w: more than %d answers a minute", t.Case, ErrLimit, surveyAnswersPerMinute)
	}
	return err
}

// A survey link takes surveyAnswersPerMinute answers a minute, and a case
// keeps its latest surveysKept answers: a flooded link cannot fill the
// database (DESIGN §14).
const (
	surveyAnswersPerMinute = 3
	surveysKept            = 20
)

func (d *Desk) rate(tx *store.Tx, c *store.Case, message int64, rating int, comment, via, tokenHash string, now time.Time) error {
	comment = strings.TrimSpace(comment)
	if len(comment) > 4000 {
		comment = strings.ToValidUTF8(comment[:4000], "")
	}
	s := &store.Survey{CaseID: c.ID, MessageID: message, Rating: rating, Comment: comment, Via: via,
		TokenHash: tokenHash, AnsweredAt: now}
	if err := tx.AddSurvey(s); err != nil {
		return err
	}
	if err := tx.TrimSurveys(c.ID, surveysKept); err != nil {
		return err
	}
	what := "the case"
	if message != 0 {
		what = fmt.Sprintf("answer %d", message)
	}
	if err := addEvent(tx, c.ID, now, EventRated, fmt.Sprintf("%d/5 for %s by %s", rating, what, via)); err != nil {
		return err
	}
	if rating > 2 {
		return nil
	}
	// A poor answer is for agents to read: its comment is the notice's text.
	m := &store.Message{From: c.Requester, NewText: comment}
	return d.tellAgents(tx, c, noticeOf{code: store.CodePoorRating, msg: m, fromName: c.RequesterName, rating: rating}, now)
}

// surveyAnswer reads a reply to a closing mail that starts with a rating:
// "4", "4 thanks", "5/5 great". ok is false for anything else.
func surveyAnswer(newText string) (rating int, comment string, ok bool) {
	text := strings.TrimSpace(newText)
	if text == "" || text[0] < '1' || text[0] > '5' {
		return 0, "", false
	}
	if len(text) > 1 && text[1] >= '0' && text[1] <= '9' {
		return 0, "", false // "10 servers are down" is no rating
	}
	rating = int(text[0] - '0')
	rest := strings.TrimPrefix(text[1:], "/5")
	return rating, strings.TrimLeft(strings.TrimSpace(rest), ".,:;-–— \t\n"), true
}
