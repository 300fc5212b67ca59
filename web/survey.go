package web

// The survey links of closing mails: /survey/{token}.

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/store"
)

// Surveys is what the survey pages ask of the desk: *desk.Desk.
type Surveys interface {
	// Survey checks a survey link's token and tells what it rates.
	Survey(ctx context.Context, token string) (desk.SurveyPage, error)
	// AnswerSurvey records the rating of token with an optional comment.
	AnswerSurvey(ctx context.Context, token, comment string) error
}

var _ Surveys = (*desk.Desk)(nil)

// surveys serves the survey pages of d; errors it cannot tell the visitor
// go to log.
type surveys struct {
	desk Surveys
	log  *slog.Logger
}

// SurveyRoutes adds the survey pages of d to mux and returns mux: GET
// /survey/{token} shows the rating the link stands for with a comment
// form, POST records it. The GET records nothing, so mail scanners that
// open links do not vote. Errors the visitor cannot act on go to log (nil
// = discard).
func SurveyRoutes(mux *http.ServeMux, d Surveys, log *slog.Logger) *http.ServeMux {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &surveys{desk: d, log: log}
	mux.HandleFunc("GET /survey/{token}", a.surveyPage)
	mux.HandleFunc("POST /survey/{token}", a.surveyAnswer)
	return mux
}

func (a *surveys) surveyPage(w http.ResponseWriter, r *http.Request) {
	page, err := a.desk.Survey(r.Context(), r.PathValue("token"))
	if err != nil {
		a.surveyError(w, err)
		return
	}
	renderSurvey(w, http.StatusOK, page, false)
}

func (a *surveys) surveyAnswer(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	page, err := a.desk.Survey(r.Context(), token)
	if err != nil {
		a.surveyError(w, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if err := a.desk.AnswerSurvey(r.Context(), token, r.PostFormValue("comment")); err != nil {
		a.surveyError(w, err)
		return
	}
	renderSurvey(w, http.StatusOK, page, true)
}

func (a *surveys) surveyError(w http.ResponseWriter, err error) {
	if errors.Is(err, desk.ErrBadToken) || errors.Is(err, store.ErrNotFound) {
		http.Error(w, "This survey link is not valid.", http.StatusNotFound)
		return
	}
	if errors.Is(err, desk.ErrLimit) {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "This link was answered several times this minute; please try again in a minute.", http.StatusTooManyRequests)
		return
	}
	a.log.Error("survey", "err", err)
	http.Error(w, "The survey could not be recorded; please try again later.", http.StatusServiceUnavailable)
}

// surveyText is what the survey page says, per language.
var surveyText = map[string]map[string]string{
	"en": {"title": "How did we do?", "rating": "Your rating", "of": "out of 5", "comment": "Anything to add? (optional)",
		"send": "Send", "thanks": "Thank you! Your rating was recorded. You can change it at any time with another link."},
	"fr": {"title": "Votre avis", "rating": "Votre note", "of": "sur 5", "comment": "Un commentaire ? (facultatif)",
		"send": "Envoyer", "thanks": "Merci ! Votre note a été enregistrée. Vous pouvez la modifier à tout moment avec un autre lien."},
	"ja": {"title": "サポートの評価", "rating": "評価", "of": "（5段階）", "comment": "ご意見・ご感想（任意）",
		"send": "送信", "thanks": "ご評価いただきありがとうございました。別のリンクからいつでも評価を変更できます。"},
}

var surveyTemplate = template.Must(template.New("survey").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.T.title}}</title>
<style>body{font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em}textarea{width:100%;height:8em}</style>
</head><body>
<h1>{{.T.title}}</h1>
<p>{{.Page.Tag}} {{.Page.Subject}}</p>
<p>{{.T.rating}}: <strong>{{.Page.Token.Rating}}</strong> {{.T.of}}</p>
{{if .Done}}<p>{{.T.thanks}}</p>{{else}}
<form method="post"><label>{{.T.comment}}<br><textarea name="comment"></textarea></label>
<p><button type="submit">{{.T.send}}</button></p></form>{{end}}
</body></html>
`))

func renderSurvey(w http.ResponseWriter, code int, page desk.SurveyPage, done bool) {
	lang := page.Language
	if surveyText[lang] == nil {
		lang = "en"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(code)
	surveyTemplate.Execute(w, struct {
		Lang string
		T    map[string]string
		Page desk.SurveyPage
		Done bool
	}{lang, surveyText[lang], page, done})
}
