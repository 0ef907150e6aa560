// The README's example, compiled (not run) by `npm run build` so that it
// keeps matching the library's types.
import { Bankfeed, InvalidPasswordError, parseWebhookEvent, type Task } from '../src/index.js';

export async function quickstart(clientId: string, clientSecret: string): Promise<string | null> {
  const bf = new Bankfeed({ baseUrl: 'http://127.0.0.1:8080', clientId, clientSecret });

  const user = await bf.createUser({ external_ref: 'customer-42' });
  const { connection, session } = await bf.createConnection({
    user_id: user.id, institution_id: 'sandbox',
    credentials: { username: 'user_mfa_question', password: 'pass_good' },
  });
  if (session.status === 'challenge_required') await bf.answerSession(session.id, { sq_car_colour: 'blue' });
  const task: Task = await bf.syncConnection(connection.id, {}, { psuIpAddress: '203.0.113.7' });
  console.log(task.result?.transactions_added);

  try {
    await bf.createConnection({ user_id: user.id, institution_id: 'sandbox', credentials: { username: 'user_invalid_password', password: 'pass_good' } });
  } catch (e) {
    if (e instanceof InvalidPasswordError) console.log(e.code, e.errorName, e.bankMessage, e.requestId);
    else throw e;
  }

  for await (const account of bf.iterateAccounts({ connection_id: connection.id })) {
    for await (const t of bf.iterateTransactions(account.id, { limit: 500 })) console.log(t.booking_date, t.amount, t.currency);
  }

  let cursor: string | null = null;
  for await (const page of bf.iterateTransactionsSync({ connection_id: connection.id, cursor })) {
    console.log(page.added.length, page.modified.length, page.removed.length);
    cursor = page.next_cursor;
  }
  return cursor;
}

export function receive(secret: string, header: string | undefined, rawBody: Buffer): string {
  const event = parseWebhookEvent(secret, header, rawBody);
  return event.type;
}
