package main

import (
	"context"
	"fmt"
	"strconv"
)

// Verification is the end-of-run check: everything accepted arrived once,
// in order, and relaydesk holds nothing unfinished.
type Verification struct {
	InboundAccepted    int `json:"inbound_accepted"`
	InboundDelivered   int `json:"inbound_delivered"`
	InboundMissing     int `json:"inbound_missing"`
	InboundDuplicated  int `json:"inbound_duplicated"`
	InboundOutOfOrder  int `json:"inbound_out_of_order_conversations"`
	InboundUnconfirmed int `json:"inbound_unconfirmed"` // arrived, though the load never saw its 200 (gave up)
	MediaChecked       int `json:"media_checked"`
	MediaMismatched    int `json:"media_mismatched"`
	Tickets            int `json:"tickets"`
	ExtraTickets       int `json:"conversations_with_more_than_one_ticket"`
	RepliesAccepted    int `json:"replies_accepted"`
	RepliesSent        int `json:"replies_sent"`
	RepliesMissing     int `json:"replies_missing"`
	RepliesDuplicated  int `json:"replies_duplicated"`
	RepliesOutOfOrder  int `json:"replies_out_of_order_conversations"`
	StatusNotRead      int `json:"replies_without_read_status"`
	UnknownComments    int `json:"unknown_comments"`

	MessageStates        map[string]int `json:"message_states"`
	FailedWithoutReason  int            `json:"failed_without_reason"`
	WaitingWithoutReason int            `json:"waiting_without_reason"`
	JobStates            map[string]int `json:"job_states"`
	JobsWithWorkLeft     int            `json:"jobs_with_work_left"`
	HelpdeskViolations   []string       `json:"helpdesk_violations,omitempty"`
	Problems             []string       `json:"problems,omitempty"`
	OK                   bool           `json:"ok"`
}

func (v *Verification) problem(format string, args ...any) {
	if len(v.Problems) < 30 {
		v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
	}
}

// verify compares what the load sent with what the fakes hold and what the
// database says. expectStatuses asks that every sent reply was read.
func verify(ctx context.Context, e *environment, expectStatuses bool) Verification {
	v := Verification{MessageStates: map[string]int{}, JobStates: map[string]int{}}
	t := e.t

	// Customer messages, from the helpdesk's own record, ticket by ticket.
	got := map[int][]int{} // conversation -> message numbers in helpdesk order
	ticketsPerConv := map[string]int{}
	for _, tk := range e.zd.Tickets() {
		v.Tickets++
		ticketsPerConv[tk.ExternalID]++
		for _, c := range e.zd.Comments(tk.ID) {
			if !c.Public || c.AuthorID == t.agentID {
				continue
			}
			for _, m := range tokenRe.FindAllStringSubmatch(c.Body, -1) {
				if m[2] != "m" {
					continue
				}
				ci, _ := strconv.Atoi(m[1])
				seq, _ := strconv.Atoi(m[3])
				got[ci] = append(got[ci], seq)
			}
		}
	}
	for _, n := range ticketsPerConv {
		if n > 1 {
			v.ExtraTickets++
		}
	}

	t.mu.Lock()
	v.UnknownComments = t.unknownComments + t.unknownSends
	for _, cv := range t.convs {
		accepted := map[int]bool{}
		for _, s := range cv.accepted {
			accepted[s] = true
		}
		v.InboundAccepted += len(cv.accepted)
		seen := map[int]int{}
		last := 0
		outOfOrder := false
		for _, s := range got[cv.idx] {
			seen[s]++
			if seen[s] > 1 {
				v.InboundDuplicated++
				v.problem("conversation %d: message %d posted %d times", cv.idx, s, seen[s])
				continue
			}
			if !accepted[s] {
				v.InboundUnconfirmed++
			}
			if s < last {
				outOfOrder = true
			}
			last = s
		}
		if outOfOrder {
			v.InboundOutOfOrder++
			v.problem("conversation %d: helpdesk order %v, sent order %v", cv.idx, clip(got[cv.idx]), clip(cv.accepted))
		}
		for _, s := range cv.accepted {
			if seen[s] == 0 {
				v.InboundMissing++
				v.problem("conversation %d: message %d was accepted but never reached the helpdesk", cv.idx, s)
			} else {
				v.InboundDelivered++
			}
		}

		// Agent replies, from the order Graph accepted them.
		v.RepliesAccepted += len(cv.replies)
		sent := t.graphSeq[cv.waID]
		rseen := map[int]int{}
		last, outOfOrder = 0, false
		for _, s := range sent {
			rseen[s]++
			if rseen[s] > 1 {
				v.RepliesDuplicated++
				v.problem("conversation %d: reply %d sent to WhatsApp %d times", cv.idx, s, rseen[s])
				continue
			}
			if s < last {
				outOfOrder = true
			}
			last = s
		}
		if outOfOrder {
			v.RepliesOutOfOrder++
			v.problem("conversation %d: WhatsApp order %v, reply order %v", cv.idx, clip(sent), clip(cv.replies))
		}
		for _, s := range cv.replies {
			if rseen[s] == 0 {
				v.RepliesMissing++
				v.problem("conversation %d: reply %d was accepted but never sent to WhatsApp", cv.idx, s)
			} else {
				v.RepliesSent++
			}
		}
	}
	for tok, s := range t.in {
		if s.accepted && s.got > 0 && s.size > 0 {
			v.MediaChecked++
			if s.gotSize != s.size || s.gotSHA != s.sha {
				v.MediaMismatched++
				v.problem("%s: %s attachment arrived with %d bytes (sha %.8s), sent %d (sha %.8s)", tok, s.kind, s.gotSize, s.gotSHA, s.size, s.sha)
			}
		}
	}
	t.mu.Unlock()

	// relaydesk's own state.
	q := func(sql string, dst *int) {
		if err := e.pool.QueryRow(ctx, sql).Scan(dst); err != nil {
			v.problem("query %q: %v", sql, err)
		}
	}
	rows, err := e.pool.Query(ctx, `SELECT state, count(*) FROM messages GROUP BY state`)
	if err == nil {
		for rows.Next() {
			var s string
			var n int
			if rows.Scan(&s, &n) == nil {
				v.MessageStates[s] = n
			}
		}
		rows.Close()
	}
	q(`SELECT count(*) FROM messages WHERE state = 'failed' AND (error IS NULL OR error = 'null'::jsonb)`, &v.FailedWithoutReason)
	q(`SELECT count(*) FROM messages WHERE state = 'waiting_window' AND (error IS NULL OR error = 'null'::jsonb)`, &v.WaitingWithoutReason)
	if expectStatuses {
		q(`SELECT count(*) FROM messages WHERE direction = 'out' AND state = 'done' AND status <> 'read'`, &v.StatusNotRead)
	}
	rows, err = e.pool.Query(ctx, `SELECT state::text, count(*) FROM river_job GROUP BY state`)
	if err == nil {
		for rows.Next() {
			var s string
			var n int
			if rows.Scan(&s, &n) == nil {
				v.JobStates[s] = n
			}
		}
		rows.Close()
	}
	// A job is stuck when its conversation still has work and nothing will
	// run it; after a drain, no conversation should have pending work at all.
	q(`SELECT count(*) FROM river_job j WHERE j.state NOT IN ('completed', 'cancelled', 'discarded')
		AND j.kind IN ('deliver_inbound', 'send_outbound')
		AND EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = (j.args->>'conversation_id')::bigint AND m.state = 'pending')`,
		&v.JobsWithWorkLeft)
	v.HelpdeskViolations = e.zd.Violations()
	if len(v.HelpdeskViolations) > 10 {
		v.HelpdeskViolations = v.HelpdeskViolations[:10]
	}

	v.OK = v.InboundMissing == 0 && v.InboundDuplicated == 0 && v.InboundOutOfOrder == 0 && v.MediaMismatched == 0 &&
		v.RepliesMissing == 0 && v.RepliesDuplicated == 0 && v.RepliesOutOfOrder == 0 && v.StatusNotRead == 0 &&
		v.MessageStates["pending"] == 0 && v.FailedWithoutReason == 0 && v.WaitingWithoutReason == 0 &&
		v.MessageStates["failed"] == 0 && v.JobsWithWorkLeft == 0 && v.ExtraTickets == 0 && len(v.HelpdeskViolations) == 0
	return v
}

func clip(s []int) []int {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
