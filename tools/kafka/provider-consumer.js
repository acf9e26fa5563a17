#!/usr/bin/env node
/**
 * A provider's system reading its own topic, as docs/kafka.md describes: prints each case event as it arrives.
 *   npm run example:provider-consumer -- idva          (KAFKA_BROKERS, default 127.0.0.1:9092)
 * SPOC_CONSUMER_GROUP names the consumer group (default provider-<provision>); a new group starts at the beginning.
 * Delivery is at-least-once, so it drops a message whose ce_id it has already handled. A real system would keep
 * those ids in its own database, in the same transaction as what it does with the event.
 */
const { Kafka, logLevel } = require('kafkajs');

const provision = process.argv[2];
if (!provision) {
  process.stderr.write('usage: npm run example:provider-consumer -- <provision>   e.g. idva\n');
  process.exit(2);
}
const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: `provider-${provision}`, brokers, logLevel: logLevel.ERROR });
const consumer = kafka.consumer({ groupId: process.env.SPOC_CONSUMER_GROUP || `provider-${provision}` });
const seen = new Set();

async function main() {
  await consumer.connect();
  await consumer.subscribe({ topics: [`spoc.cases.${provision}`], fromBeginning: true });
  process.stdout.write(`listening on spoc.cases.${provision} at ${brokers.join(',')}\n`);
  await consumer.run({
    eachMessage: async ({ message }) => {
      const id = message.headers.ce_id.toString();
      if (seen.has(id)) return; // a re-delivery after a relay restart
      seen.add(id);
      const type = message.headers.ce_type.toString();
      const c = JSON.parse(message.value.toString());
      const detail = [c.routeStatus, c.riskLevel && `risk ${c.riskLevel}`, c.dueBy && `first contact due ${c.dueBy}`, c.outcome, c.toProvision && `to ${c.toProvision}`]
        .filter(Boolean)
        .join(', ');
      process.stdout.write(`${message.headers.ce_time} ${type} case ${c.caseId} (referral ${c.referralId}) ${c.status}${detail ? `: ${detail}` : ''}\n`);
    },
  });
}

const shutdown = () => consumer.disconnect().finally(() => process.exit(0));
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
main().catch((error) => {
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
});
