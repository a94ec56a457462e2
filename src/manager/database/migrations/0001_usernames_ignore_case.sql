-- Usernames become unique regardless of case. Edited by hand: the check below comes first, so
-- that a database holding names that differ only in case (admin, Admin) fails with a message
-- naming them, rather than with CREATE UNIQUE INDEX's "could not create unique index". Nothing
-- is renamed automatically: a login name is the user's, so an administrator decides.
DO $$
DECLARE
  clashes text;
BEGIN
  SELECT string_agg(names, '; ') INTO clashes FROM (
    SELECT string_agg(username, ', ' ORDER BY id) AS names
    FROM "torpedo"."users" GROUP BY lower(username) HAVING count(*) > 1
  ) AS c;
  IF clashes IS NOT NULL THEN
    RAISE EXCEPTION 'torpedo cannot migrate: usernames are now unique regardless of case, and these differ only in case: %', clashes
      USING HINT = 'rename or delete all but one of each (e.g. UPDATE torpedo.users SET username = ''admin2'' WHERE username = ''Admin''), then start the manager again';
  END IF;
END $$;
--> statement-breakpoint
ALTER TABLE "torpedo"."users" DROP CONSTRAINT "users_username_unique";--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_lower" ON "torpedo"."users" USING btree (lower("username"));
