-- Why an artifact's upload was refused (it keeps waiting) or why it failed; NULL while nothing went wrong.
ALTER TABLE artifacts ADD COLUMN failure text;
