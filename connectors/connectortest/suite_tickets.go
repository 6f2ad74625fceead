package connectortest

// The suite's checks of requesters, tickets, comments and notes.

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/relaydesk/relaydesk/connectors"
)

func (s *suite) testEnsureRequester(t *testing.T) {
	t.Parallel()

	s.run(t, "same phone twice returns one user", func(t *testing.T, b *bundle) {
		id1, r := b.requester(t)
		id2, err := b.c.EnsureRequester(b.ctx, r)
		require.NoError(t, err)
		require.Equal(t, id1, id2)
		users := usersWithPhone(b.f, r.Phone)
		require.Len(t, users, 1)
		require.Equal(t, id1, users[0].ID)
	})

	s.run(t, "different phones give different users", func(t *testing.T, b *bundle) {
		id1, _ := b.requester(t)
		id2, _ := b.requester(t)
		require.NotEqual(t, id1, id2)
	})

	s.run(t, "finds an existing user by exact phone", func(t *testing.T, b *bundle) {
		phone := newPhone()
		seeded := b.f.SeedUser("Existing Customer", phone)
		id, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: phone, WaID: phone[1:], Name: "Profile Name"})
		require.NoError(t, err)
		require.Equal(t, seeded, id)
		require.Len(t, usersWithPhone(b.f, phone), 1)
	})

	s.run(t, "concurrent calls create one user", func(t *testing.T, b *bundle) {
		phone := newPhone()
		const n = 6
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				ids[i], errs[i] = b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: phone, WaID: phone[1:], Name: "Racer"})
			})
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			require.Equal(t, ids[0], ids[i])
		}
		require.Len(t, usersWithPhone(b.f, phone), 1)
	})
}

var bsuidSeq atomic.Int64

// newBSUID returns a fresh business-scoped user id.
func newBSUID() string { return fmt.Sprintf("US.1349120865530%07d", bsuidSeq.Add(1)) }

// A customer who hides their phone behind a WhatsApp username is a
// requester without a phone, keyed by BSUID as external id and named by
// username, else profile name, else the BSUID.
func (s *suite) testPhonelessRequester(t *testing.T) {
	t.Parallel()

	s.run(t, "found again by BSUID, named by username, no phone", func(t *testing.T, b *bundle) {
		r := connectors.Requester{UserID: newBSUID(), Username: "maria.s", Name: "Maria Souza"}
		id1, err := b.c.EnsureRequester(b.ctx, r)
		require.NoError(t, err)
		require.NotEmpty(t, id1)
		id2, err := b.c.EnsureRequester(b.ctx, r)
		require.NoError(t, err)
		require.Equal(t, id1, id2, "the same BSUID is the same requester")
		var mine []User
		for _, u := range b.f.Users() {
			if strings.Contains(strings.ToLower(u.ExternalID), strings.ToLower(r.UserID)) {
				mine = append(mine, u)
			}
		}
		require.Len(t, mine, 1, "one user keyed by the BSUID")
		require.Equal(t, id1, mine[0].ID)
		require.Equal(t, "maria.s", mine[0].Name)
		require.Empty(t, mine[0].Phone)

		other, err := b.c.EnsureRequester(b.ctx, connectors.Requester{UserID: newBSUID(), Name: "Maria Souza"})
		require.NoError(t, err)
		require.NotEqual(t, id1, other, "another BSUID is another requester, even with the same profile name")
	})

	s.run(t, "without username or profile name the BSUID names it", func(t *testing.T, b *bundle) {
		r := connectors.Requester{UserID: newBSUID()}
		id, err := b.c.EnsureRequester(b.ctx, r)
		require.NoError(t, err)
		var name string
		for _, u := range b.f.Users() {
			if u.ID == id {
				name = u.Name
			}
		}
		require.Contains(t, strings.ToLower(name), strings.ToLower(r.UserID))
	})

	s.run(t, "a requester with a phone and a BSUID is found by phone", func(t *testing.T, b *bundle) {
		phone := newPhone()
		seeded := b.f.SeedUser("Existing Customer", phone)
		id, err := b.c.EnsureRequester(b.ctx, connectors.Requester{Phone: phone, WaID: phone[1:], UserID: newBSUID(), Name: "Profile"})
		require.NoError(t, err)
		require.Equal(t, seeded, id)
	})

	s.run(t, "a malformed BSUID is refused for good", func(t *testing.T, b *bundle) {
		_, err := b.c.EnsureRequester(b.ctx, connectors.Requester{UserID: "US.12 OR 1=1"})
		require.Error(t, err)
		require.True(t, connectors.IsPermanent(err), err)
	})
}

func (s *suite) testCreateTicket(t *testing.T) {
	t.Parallel()

	s.run(t, "first comment is the requester's public message", func(t *testing.T, b *bundle) {
		rid, _ := b.requester(t)
		tk, firstID, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{
			RequesterID: rid,
			Subject:     "Order question",
			First:       message("wamid.A1", "Where is my order?"),
			Tags:        []string{"whatsapp", "vip"},
			ExternalID:  "wa:100:15550000001",
		})
		require.NoError(t, err)
		require.NotEmpty(t, tk.ID)
		require.NotEmpty(t, tk.URL)
		require.Equal(t, connectors.StatusOpen, tk.Status)

		ft := fakeTicket(t, b.f, tk.ID)
		require.Equal(t, rid, ft.RequesterID)
		require.Equal(t, "Order question", ft.Subject)
		require.Equal(t, "wa:100:15550000001", ft.ExternalID)
		require.Subset(t, ft.Tags, []string{"whatsapp", "vip"})

		comments := b.f.Comments(tk.ID)
		require.Len(t, comments, 1)
		require.Equal(t, firstID, comments[0].ID)
		require.Equal(t, rid, comments[0].AuthorID)
		require.True(t, comments[0].Public)
		require.Equal(t, "Where is my order?", comments[0].Body)
	})

	for name, first := range map[string]connectors.Message{
		"retry with the same message key creates one ticket":     message("wamid.R1", "only once"),
		"retry of a message with attachments creates one ticket": message("wamid.P1", "see photo", file("photo.jpg", "image/jpeg", 2048)),
	} {
		s.run(t, name, func(t *testing.T, b *bundle) {
			rid, _ := b.requester(t)
			tk, _ := RequireIdempotentCreate(t, b.c, connectors.NewTicket{RequesterID: rid, Subject: "Retry", First: first})
			require.Len(t, b.f.Tickets(), 1)
			require.Len(t, b.f.Comments(tk.ID), 1)
		})
	}

	s.run(t, "attachments arrive intact", func(t *testing.T, b *bundle) {
		rid, _ := b.requester(t)
		files := []File{file("photo.jpg", "image/jpeg", 4096), file("invoice.pdf", "application/pdf", 777)}
		tk, _, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{RequesterID: rid, Subject: "Files", First: message("wamid.F1", "two files", files...)})
		require.NoError(t, err)
		comments := b.f.Comments(tk.ID)
		require.Len(t, comments, 1)
		require.Equal(t, files, comments[0].Attachments)
	})

	s.run(t, "follow-up of a closed ticket links it", func(t *testing.T, b *bundle) {
		prev, rid := b.ticket(t)
		b.f.SetStatus(prev, connectors.StatusClosed)
		tk, _, err := b.c.CreateTicket(b.ctx, connectors.NewTicket{
			RequesterID: rid, Subject: "Again", First: message("wamid.N1", "me again"), PreviousTicketID: prev,
		})
		require.NoError(t, err)
		require.NotEqual(t, prev, tk.ID)
		require.Equal(t, prev, fakeTicket(t, b.f, tk.ID).FollowupOf)
	})
}

func (s *suite) testAddMessage(t *testing.T) {
	t.Parallel()

	s.withTicket(t, "comments keep their order", func(t *testing.T, b *bundle, tid, rid string) {
		var ids []string
		for i := range 3 {
			id, err := b.c.AddMessage(b.ctx, tid, rid, message(fmt.Sprintf("wamid.O%d", i), fmt.Sprintf("message %d", i)))
			require.NoError(t, err)
			require.NotEmpty(t, id)
			ids = append(ids, id)
		}
		comments := b.f.Comments(tid)
		require.Len(t, comments, 4)
		for i, c := range comments[1:] {
			require.Equal(t, ids[i], c.ID)
			require.Equal(t, fmt.Sprintf("message %d", i), c.Body)
			require.Equal(t, rid, c.AuthorID)
			require.True(t, c.Public)
		}
	})

	s.withTicket(t, "attachments are opened lazily and arrive intact", func(t *testing.T, b *bundle, tid, rid string) {
		f := file("voice.ogg", "audio/ogg", 3000)
		var opens atomic.Int64
		m := connectors.Message{Key: "wamid.V1", Attachments: []connectors.Attachment{attachment(f, &opens)}}
		require.Zero(t, opens.Load())
		id, err := b.c.AddMessage(b.ctx, tid, rid, m)
		require.NoError(t, err)
		require.GreaterOrEqual(t, opens.Load(), int64(1))
		comments := b.f.Comments(tid)
		last := comments[len(comments)-1]
		require.Equal(t, id, last.ID)
		require.Equal(t, []File{f}, last.Attachments)
	})

	s.withTicket(t, "a comment on a solved ticket reopens it", func(t *testing.T, b *bundle, tid, rid string) {
		b.f.SetStatus(tid, connectors.StatusSolved)
		_, err := b.c.AddMessage(b.ctx, tid, rid, message("wamid.S1", "one more thing"))
		require.NoError(t, err)
		tk, err := b.c.GetTicket(b.ctx, tid)
		require.NoError(t, err)
		require.False(t, tk.Status.IsResolved(), "status %s", tk.Status)
	})

	s.withTicket(t, "a closed ticket refuses the comment", func(t *testing.T, b *bundle, tid, rid string) {
		b.f.SetStatus(tid, connectors.StatusClosed)
		_, err := b.c.AddMessage(b.ctx, tid, rid, message("wamid.C1", "hello?"))
		require.ErrorIs(t, err, connectors.ErrTicketClosed)
		require.True(t, connectors.IsPermanent(err))
		require.Len(t, b.f.Comments(tid), 1)
	})
}

func (s *suite) testAddNote(t *testing.T) {
	t.Parallel()
	b := s.setup(t)
	tid, _ := b.ticket(t)
	id, err := b.c.AddNote(b.ctx, tid, connectors.Note{Key: "note-1", Body: "Message not delivered: outside the 24-hour window."})
	require.NoError(t, err)
	comments := b.f.Comments(tid)
	require.Len(t, comments, 2)
	require.Equal(t, id, comments[1].ID)
	require.False(t, comments[1].Public)
	require.Equal(t, "Message not delivered: outside the 24-hour window.", comments[1].Body)
}

func (s *suite) testGetTicket(t *testing.T) {
	t.Parallel()
	for _, st := range []connectors.Status{connectors.StatusPending, connectors.StatusSolved, connectors.StatusOpen, connectors.StatusClosed} {
		t.Run(string(st), func(t *testing.T) {
			t.Parallel()
			b := s.setup(t)
			tid, _ := b.ticket(t)
			b.f.SetStatus(tid, st)
			tk, err := b.c.GetTicket(b.ctx, tid)
			require.NoError(t, err)
			require.Equal(t, tid, tk.ID)
			require.Equal(t, st, tk.Status)
			require.NotEmpty(t, tk.URL)
		})
	}
	s.run(t, "unknown ticket is not found", func(t *testing.T, b *bundle) {
		_, err := b.c.GetTicket(b.ctx, "987654321")
		require.Error(t, err)
		require.True(t, connectors.IsNotFound(err), "class %s: %v", connectors.ClassOf(err), err)
	})
}
