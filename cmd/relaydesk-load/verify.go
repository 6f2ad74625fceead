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

	MessageStates        map[string]int64 `json:"message_states"`
	FailedWithoutReason  int64            `json:"failed_without_reason"`
	WaitingWithoutReason int64            `json:"waiting_without_reason"`
	JobStates            map[string]int64 `json:"job_states"`
	JobsWithWorkLeft     int64            `json:"jobs_with_work_left"`
	HelpdeskViolations   []string         `json:"helpdesk_violations,omitempty"`
	Problems             []string         `json:"problems,omitempty"`
	OK                   bool             `json:"ok"`
}

func (v *Verification) problem(format string, args ...any) {
	if len(v.Problems) < 30 {
		v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
	}
}

// verify compares what the load sent with what the fakes hold and what the
// database says. expectStatuses asks that every sent reply was read.
func verify(ctx context.Context, e *environment, expectStatuses bool) Verification {
	v := Verification{MessageStates: map[string]int64{}, JobStates: map[string]int64{}}
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
		v.InboundAccepted += len(cv.accepted)
		in := compareArrival(got[cv.idx], cv.accepted)
		for _, d := range in.duplicates {
			v.InboundDuplicated++
			v.problem("conversation %d: message %d posted %d times", cv.idx, d.n, d.times)
		}
		v.InboundUnconfirmed += in.unconfirmed
		if in.outOfOrder {
			v.InboundOutOfOrder++
			v.problem("conversation %d: helpdesk order %v, sent order %v", cv.idx, clip(got[cv.idx]), clip(cv.accepted))
		}
		for _, s := range in.missing {
			v.InboundMissing++
			v.problem("conversation %d: message %d was accepted but never reached the helpdesk", cv.idx, s)
		}
		v.InboundDelivered += in.delivered

		// Agent replies, from the order Graph accepted them.
		v.RepliesAccepted += len(cv.replies)
		sent := t.graphSeq[cv.waID]
		out := compareArrival(sent, cv.replies)
		for _, d := range out.duplicates {
			v.RepliesDuplicated++
			v.problem("conversation %d: reply %d sent to WhatsApp %d times", cv.idx, d.n, d.times)
		}
		if out.outOfOrder {
			v.RepliesOutOfOrder++
			v.problem("conversation %d: WhatsApp order %v, reply order %v", cv.idx, clip(sent), clip(cv.replies))
		}
		for _, s := range out.missing {
			v.RepliesMissing++
			v.problem("conversation %d: reply %d was accepted but never sent to WhatsApp", cv.idx, s)
		}
		v.RepliesSent += out.delivered
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
	if ms, err := e.st.MessageStats(ctx); err != nil {
		v.problem("message counts: %v", err)
	} else {
		v.MessageStates, v.FailedWithoutReason, v.WaitingWithoutReason = ms.States, ms.FailedWithoutReason, ms.WaitingWithoutReason
		if expectStatuses {
			v.StatusNotRead = int(ms.SentNotRead)
		}
	}
	if jobs, err := e.st.JobCounts(ctx); err == nil {
		v.JobStates = jobs
	}
	// A job is stuck when its conversation still has work and nothing will
	// run it; after a drain, no conversation should have pending work at all.
	var err error
	if v.JobsWithWorkLeft, err = e.st.JobsWithWorkLeft(ctx); err != nil {
		v.problem("job counts: %v", err)
	}
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

// arrival compares the numbered items that arrived somewhere, in arrival
// order, with the numbers the load had accepted.
type arrival struct {
	duplicates  []repeat // items that arrived more than once, each time again
	unconfirmed int      // items that arrived although the load never saw them accepted
	outOfOrder  bool     // a number arrived after a higher one
	missing     []int    // accepted items that never arrived
	delivered   int      // accepted items that arrived
}

// repeat is an item that arrived for the times-th time.
type repeat struct{ n, times int }

func compareArrival(arrived, accepted []int) arrival {
	var a arrival
	ok := make(map[int]bool, len(accepted))
	for _, n := range accepted {
		ok[n] = true
	}
	seen := map[int]int{}
	last := 0
	for _, n := range arrived {
		seen[n]++
		if seen[n] > 1 {
			a.duplicates = append(a.duplicates, repeat{n, seen[n]})
			continue
		}
		if !ok[n] {
			a.unconfirmed++
		}
		if n < last {
			a.outOfOrder = true
		}
		last = n
	}
	for _, n := range accepted {
		if seen[n] == 0 {
			a.missing = append(a.missing, n)
		} else {
			a.delivered++
		}
	}
	return a
}

func clip(s []int) []int {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
