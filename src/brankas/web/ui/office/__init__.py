"""The office profile page (issue 14): the admin edits the letterhead, the place of
signing, the logo and the SOP's own number and dates; a preview shows the letterhead."""
