// Reads an iCalendar document on stdin and prints what ical.js understood, as JSON,
// so the Python tests can compare it with what confmgr meant to publish.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const calendar = new ICAL.Component(ICAL.parse(Buffer.concat(chunks).toString("utf8")));

for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(vtimezone);
}

const text = (component, name) => component.getFirstPropertyValue(name);
// A UTC DATE-TIME as an ISO string (null when absent), like startUtc and endUtc.
const utc = (component, name) => component.getFirstPropertyValue(name)?.toJSDate().toISOString()
  ?? null;
const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
  const event = new ICAL.Event(vevent);
  return {
    uid: event.uid,
    summary: event.summary,
    description: event.description,
    location: event.location,
    status: text(vevent, "status"),
    sequence: event.sequence,
    dtstamp: utc(vevent, "dtstamp"),
    lastModified: utc(vevent, "last-modified"),
    url: text(vevent, "url"),
    categories: vevent.getAllProperties("categories").flatMap((p) => p.getValues()),
    startUtc: event.startDate.toJSDate().toISOString(),
    endUtc: event.endDate.toJSDate().toISOString(),
    startLocal: event.startDate.toString(),
    startTzid: event.startDate.timezone ?? event.startDate.zone?.tzid ?? null,
    endLocal: event.endDate.toString(),
    conference: text(vevent, "conference"),
    alarms: vevent.getAllSubcomponents("valarm").map((alarm) => ({
      action: text(alarm, "action"),
      trigger: String(text(alarm, "trigger")),
      description: text(alarm, "description"),
    })),
  };
});

process.stdout.write(JSON.stringify({
  prodid: text(calendar, "prodid"),
  version: text(calendar, "version"),
  name: text(calendar, "name"),
  xWrCalname: text(calendar, "x-wr-calname"),
  xWrTimezone: text(calendar, "x-wr-timezone"),
  refreshInterval: String(text(calendar, "refresh-interval")),
  source: text(calendar, "source"),
  timezones: calendar.getAllSubcomponents("vtimezone").map((tz) => text(tz, "tzid")),
  events,
}));
