// Driver: the published Go client (dist/clients/go, openapi-generator's `go`), signing every
// request with an http.RoundTripper as the client's README shows; the other media type is set
// by a second RoundTripper, after the signature. Bodies are built with the client's own
// constructors, as a Go user would. Built by toolchain/compat.py in GOPATH mode (no module
// proxy), beside the client, against Debian's Go toolchain and libraries.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	workonflowcall "github.com/workonflow/call-api-go"
)

type given struct {
	BaseURL   string   `json:"baseUrl"`
	TeamID    string   `json:"teamId"`
	BotID     string   `json:"botId"`
	SecretKey string   `json:"secretKey"`
	Threads   []string `json:"threads"`
	Users     []string `json:"users"`
}

type step struct {
	Name   string      `json:"name"`
	Status *int        `json:"status"`
	Code   *int        `json:"code"`
	Data   interface{} `json:"data"`
	Error  *string     `json:"error"`
	Sent   *string     `json:"sent"`
}

// lastSent is the body of the request the current step sent, as signed.
var lastSent *string

type signer struct {
	botID, secretKey string
	next             http.RoundTripper
}

func (s signer) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	sent := string(body)
	lastSent = &sent
	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	sum := sha256.Sum256([]byte(s.botID + s.secretKey + timestamp + string(body)))
	r = r.Clone(r.Context())
	r.Header.Set("X-Bot-Id", s.botID)
	r.Header.Set("X-timestamp", timestamp)
	r.Header.Set("X-Signature", hex.EncodeToString(sum[:]))
	return s.next.RoundTrip(r)
}

type textPlain struct{ next http.RoundTripper }

func (t textPlain) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Content-Type", "text/plain")
	return t.next.RoundTrip(r)
}

func client(run given, transport http.RoundTripper) *workonflowcall.APIClient {
	cfg := workonflowcall.NewConfiguration()
	cfg.Servers = workonflowcall.ServerConfigurations{{URL: run.BaseURL}}
	cfg.HTTPClient = &http.Client{Transport: transport}
	return workonflowcall.NewAPIClient(cfg)
}

func firstLine(err error) string {
	return strings.SplitN(fmt.Sprintf("%T: %s", err, err.Error()), "\n", 2)[0]
}

// record fills a step from an answer: the envelope's `data` with the spec's field names.
func record(name string, send func() (interface{}, *http.Response, error)) step {
	lastSent = nil
	answer, response, err := send()
	done := step{Name: name, Sent: lastSent}
	if err != nil {
		text := firstLine(err)
		done.Error = &text
		if response != nil {
			status := response.StatusCode
			done.Status = &status
			var openAPIError *workonflowcall.GenericOpenAPIError
			var envelope struct{ Code *int }
			if errors.As(err, &openAPIError) && json.Unmarshal(openAPIError.Body(), &envelope) == nil {
				done.Code = envelope.Code
			}
		}
		return done
	}
	encoded, _ := json.Marshal(answer)
	var envelope struct {
		Code *int
		Data interface{}
	}
	if err := json.Unmarshal(encoded, &envelope); err != nil {
		text := firstLine(err)
		done.Error = &text
		return done
	}
	done.Status, done.Code, done.Data = envelope.Code, envelope.Code, envelope.Data
	return done
}

func main() {
	var run given
	if err := json.Unmarshal([]byte(os.Args[1]), &run); err != nil {
		panic(err)
	}
	thread, idle, other := run.Threads[0], run.Threads[1], run.Threads[2]
	first, second, third := run.Users[0], run.Users[1], run.Users[2]
	ctx, team := context.Background(), run.TeamID
	signed := client(run, signer{run.BotID, run.SecretKey, http.DefaultTransport})
	wrong := client(run, signer{run.BotID, run.SecretKey + "-wrong", http.DefaultTransport})
	plain := client(run, textPlain{signer{run.BotID, run.SecretKey, http.DefaultTransport}})

	on := func(threadID string) workonflowcall.ThreadRequest {
		return *workonflowcall.NewThreadRequest(threadID)
	}
	one := func(threadID, userID string, userIDs ...string) workonflowcall.UsersRequest {
		body := workonflowcall.NewSingleUserRequest(threadID, userID)
		if len(userIDs) > 0 {
			body.SetUserIds(userIDs)
		}
		return workonflowcall.SingleUserRequestAsUsersRequest(body)
	}
	list := func(userIDs ...string) workonflowcall.UsersRequest {
		return workonflowcall.UserListRequestAsUsersRequest(
			workonflowcall.NewUserListRequest(thread, userIDs))
	}
	start := func(api *workonflowcall.APIClient, threadID string) func() (interface{}, *http.Response, error) {
		return func() (interface{}, *http.Response, error) {
			return api.CallAPI.CallStart(ctx, team).
				CallStartRequest(*workonflowcall.NewCallStartRequest(threadID)).Execute()
		}
	}
	invite := func(body workonflowcall.UsersRequest) func() (interface{}, *http.Response, error) {
		return func() (interface{}, *http.Response, error) {
			return signed.CallUserAPI.CallUserInvite(ctx, team).UsersRequest(body).Execute()
		}
	}
	steps := []struct {
		name string
		send func() (interface{}, *http.Response, error)
	}{
		{"start", start(signed, thread)},
		{"invite userIds", invite(list(first, second))},
		{"invite userId and userIds", invite(one(thread, third, first))},
		{"pause userId", func() (interface{}, *http.Response, error) {
			return signed.CallAPI.CallPause(ctx, team).UsersRequest(one(thread, first)).Execute()
		}},
		{"unpause userIds", func() (interface{}, *http.Response, error) {
			return signed.CallAPI.CallUnpause(ctx, team).UsersRequest(list(first)).Execute()
		}},
		{"exclude userId", func() (interface{}, *http.Response, error) {
			return signed.CallUserAPI.CallUserExclude(ctx, team).UsersRequest(one(thread, second)).Execute()
		}},
		{"recording start", func() (interface{}, *http.Response, error) {
			return signed.CallRecordingAPI.CallRecordingStart(ctx, team).ThreadRequest(on(thread)).Execute()
		}},
		{"recording stop", func() (interface{}, *http.Response, error) {
			return signed.CallRecordingAPI.CallRecordingStop(ctx, team).ThreadRequest(on(thread)).Execute()
		}},
		{"end", func() (interface{}, *http.Response, error) {
			return signed.CallAPI.CallEnd(ctx, team).ThreadRequest(on(thread)).Execute()
		}},
		{"409 invite with no active call", invite(one(idle, first))},
		{"401 wrong signature", start(wrong, other)},
		{"400 repeated user id", invite(list(first, first))},
		{"400 neither userId nor userIds", invite(workonflowcall.UsersRequest{})},
		{"415 text/plain body", start(plain, other)},
	}
	done := make([]step, 0, len(steps))
	for _, s := range steps {
		done = append(done, record(s.name, s.send))
	}
	out, _ := json.Marshal(map[string]interface{}{"steps": done})
	os.Stdout.Write(out)
}
