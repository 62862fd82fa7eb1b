-- The grants page lists every policy attachment of the account, newest
-- first (by id), filtered by a policy's exact name whatever its type, by
-- the policy's type, or by the principal's kind: each filter walks an index
-- in the list's order, so a page reads its own rows however rare the
-- matches are.
CREATE INDEX policy_attachments_name ON policy_attachments(policy_name, id);
CREATE INDEX policy_attachments_type ON policy_attachments(policy_type, id);
CREATE INDEX policy_attachments_user_kind ON policy_attachments(id) WHERE user_id IS NOT NULL;
CREATE INDEX policy_attachments_group_kind ON policy_attachments(id) WHERE group_id IS NOT NULL;
CREATE INDEX policy_attachments_role_kind ON policy_attachments(id) WHERE role_id IS NOT NULL;
