package chatwoottest

// State changes. Callers hold f.Mu.

func (f *Fake) addContact(name, phone, email, identifier string) *contact {
	f.nextContact++
	ct := &contact{id: f.nextContact, name: name, phone: phone, email: email, identifier: identifier, sources: map[int64]string{}, createdAt: f.now().UTC()}
	f.contacts[ct.id] = ct
	f.contactOrder = append(f.contactOrder, ct.id)
	return ct
}

func (f *Fake) addMessage(cv *conversation, msgType string, content *string, private bool, sourceID *string, senderType string, senderID int64, files []*blob) *message {
	f.nextMessage++
	now := f.now().UTC()
	m := &message{id: f.nextMessage, convID: cv.id, msgType: msgType, content: content, private: private, sourceID: sourceID,
		senderType: senderType, senderID: senderID, attachments: files, createdAt: now}
	f.messages[m.id] = m
	cv.messages = append(cv.messages, m.id)
	cv.updatedAt = now
	if msgType != "activity" {
		cv.lastActive = now
	}
	// Message#reopen_conversation: an incoming message reopens a snoozed or
	// resolved conversation (an inbox without an active bot).
	if msgType == "incoming" && (cv.status == "snoozed" || cv.status == "resolved") {
		f.setStatus(cv, "open", nil)
	}
	return m
}

func (f *Fake) setStatus(cv *conversation, status string, by *agent) {
	if cv.status == status {
		return
	}
	cv.status = status
	content := "Conversation was reopened by the contact"
	switch {
	case by != nil && status == "resolved":
		content = "Conversation was marked resolved by " + by.name
	case by != nil:
		content = "Conversation was marked " + status + " by " + by.name
	}
	f.addMessage(cv, "activity", &content, false, nil, "", 0, nil)
}

func (f *Fake) newBlob(name, ctype string, data []byte) *blob {
	f.nextOther++
	b := &blob{id: f.nextOther, signed: randomString(18), filename: name, ctype: ctype, data: data}
	f.blobs[b.signed] = b
	return b
}
