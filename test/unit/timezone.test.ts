import { describe, it, expect } from "vitest";
import { isTimeZone, offsetMinutes, zonedParts } from "../../src/formation/timezone.ts";

const utc = (y: number, mo: number, d: number, h = 0, mi = 0): number => Date.UTC(y, mo - 1, d, h, mi);

describe("isTimeZone", () => {
  it("accepts IANA names", () => {
    for (const z of ["Europe/Berlin", "UTC", "Etc/UTC", "America/Argentina/Buenos_Aires", "Asia/Kolkata", "Etc/GMT+5", "America/Port-au-Prince"]) {
      expect(isTimeZone(z), z).toBe(true);
    }
  });
  it("rejects unknown names, empty strings and bare UTC offsets", () => {
    for (const z of ["Mars/Olympus", "", " ", "+02:00", "-0500", "+02", "Z", "Europe/Berlin ", "Europe//Berlin", "/Europe/Berlin"]) {
      expect(isTimeZone(z), JSON.stringify(z)).toBe(false);
    }
  });
});

describe("zonedParts", () => {
  it("gives the local wall clock and date in the zone", () => {
    // 2026-07-01 22:30 UTC is already July 2nd (a Thursday) 00:30 in Berlin.
    expect(zonedParts(utc(2026, 7, 1, 22, 30), "Europe/Berlin")).toEqual({ year: 2026, month: 7, day: 2, hour: 0, minute: 30, weekday: 4 });
    expect(zonedParts(new Date(utc(2026, 1, 15, 12, 0)), "Europe/Berlin")).toMatchObject({ hour: 13, minute: 0 });
  });
  it("uses hour 0 at midnight, never 24", () => {
    for (const z of ["UTC", "America/New_York", "Asia/Tokyo"]) {
      for (let d = 1; d <= 28; d += 9) {
        const midnightUtc = utc(2026, 3, d);
        const o = offsetMinutes(midnightUtc, z);
        // the UTC instant that is local midnight
        const p = zonedParts(midnightUtc - o * 60_000, z);
        expect(p.hour, z).toBe(0);
        expect(p.minute).toBe(0);
      }
    }
  });
  it("numbers weekdays with Sunday = 0", () => {
    // 2026-03-01 is a Sunday, 2026-03-07 a Saturday.
    expect(zonedParts(utc(2026, 3, 1, 12), "UTC").weekday).toBe(0);
    expect(zonedParts(utc(2026, 3, 7, 12), "UTC").weekday).toBe(6);
    // Late Saturday in New York while it is already Sunday in UTC.
    expect(zonedParts(utc(2026, 3, 8, 2), "America/New_York")).toMatchObject({ day: 7, weekday: 6, hour: 21 });
  });
  it("handles half- and quarter-hour zones and crosses the date line", () => {
    expect(zonedParts(utc(2026, 1, 1, 0, 0), "Asia/Kolkata")).toMatchObject({ hour: 5, minute: 30 });
    expect(zonedParts(utc(2026, 1, 1, 0, 0), "Asia/Kathmandu")).toMatchObject({ hour: 5, minute: 45 });
    expect(zonedParts(utc(2026, 1, 1, 12, 0), "Pacific/Kiritimati")).toMatchObject({ day: 2, hour: 2 });
    expect(zonedParts(utc(2026, 1, 1, 5, 0), "Pacific/Pago_Pago")).toMatchObject({ year: 2025, month: 12, day: 31, hour: 18 });
  });
});

describe("offsetMinutes", () => {
  it("is local minus UTC across DST", () => {
    expect(offsetMinutes(utc(2026, 7, 1), "Europe/Berlin")).toBe(120);
    expect(offsetMinutes(utc(2026, 1, 1), "Europe/Berlin")).toBe(60);
    expect(offsetMinutes(utc(2026, 7, 1), "America/New_York")).toBe(-240);
    expect(offsetMinutes(utc(2026, 1, 1), "America/New_York")).toBe(-300);
    expect(offsetMinutes(utc(2026, 1, 1), "Australia/Sydney")).toBe(660);
    expect(offsetMinutes(utc(2026, 7, 1), "Australia/Sydney")).toBe(600);
  });
  it("handles zones without DST and fractional offsets", () => {
    expect(offsetMinutes(utc(2026, 7, 1), "Asia/Kolkata")).toBe(330);
    expect(offsetMinutes(utc(2026, 7, 1), "Asia/Kathmandu")).toBe(345);
    expect(offsetMinutes(utc(2026, 7, 1), "America/Sao_Paulo")).toBe(-180);
    expect(offsetMinutes(utc(2026, 7, 1), "UTC")).toBe(0);
    expect(offsetMinutes(new Date(utc(2026, 7, 1)), "Etc/UTC")).toBe(0);
  });
  it("switches exactly at the transition instant (Berlin, 2026-03-29 01:00 UTC)", () => {
    expect(offsetMinutes(utc(2026, 3, 29, 0, 59), "Europe/Berlin")).toBe(60);
    expect(offsetMinutes(utc(2026, 3, 29, 1, 0), "Europe/Berlin")).toBe(120);
    expect(offsetMinutes(utc(2026, 10, 25, 0, 59), "Europe/Berlin")).toBe(120);
    expect(offsetMinutes(utc(2026, 10, 25, 1, 0), "Europe/Berlin")).toBe(60);
  });
});
