-- Claims take each webhook's due deliveries separately, oldest first, so that one webhook's backlog
-- cannot fill every slot of a worker (see claimDueDeliveries). The index that served one queue
-- ordered by due time is replaced by one per webhook.
create index webhook_deliveries_due_by_webhook on webhook_deliveries (webhook_id, next_attempt_at)
  where status = 'pending';
drop index webhook_deliveries_due;
