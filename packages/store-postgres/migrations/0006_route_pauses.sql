-- Routes an operator paused (`sluice routes pause`, the admin API): no relay claims their rows until
-- they are resumed. A row per paused route; resuming deletes it. The claim reads the whole table
-- once per statement (an InitPlan), so an empty table costs it next to nothing.
CREATE TABLE route_pauses (
  route     text        PRIMARY KEY,
  paused_at timestamptz NOT NULL DEFAULT now(),
  reason    text
);
