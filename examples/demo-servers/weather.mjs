#!/usr/bin/env node
// Demo MCP server: canned but plausible weather. Tools get_forecast and get_alerts,
// prompt plan_trip. Listens on 127.0.0.1:$PORT (default 9101) at /mcp.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { serveMcp } from './serve-mcp.mjs';

const CONDITIONS = ['sunny', 'partly cloudy', 'overcast', 'light rain', 'showers', 'windy', 'fog in the morning'];
const DAYS = ['Today', 'Tomorrow', 'Day after tomorrow'];

/** A stable small number per text, so a city always gets the same forecast. */
function seedOf(text) {
  let seed = 0;
  for (const char of text.toLowerCase()) seed = (seed * 31 + char.codePointAt(0)) % 100_003;
  return seed;
}

function forecastFor(city) {
  const seed = seedOf(city);
  const lines = DAYS.map((day, index) => {
    const high = 8 + ((seed >> index) % 20);
    const low = high - 4 - ((seed + index) % 6);
    const condition = CONDITIONS[(seed + index * 3) % CONDITIONS.length];
    const wind = 5 + ((seed * (index + 1)) % 30);
    return `${day}: ${condition}, high ${high}°C, low ${low}°C, wind ${wind} km/h`;
  });
  return `Forecast for ${city}:\n${lines.join('\n')}`;
}

const ALERTS = {
  coast: ['Gale warning: gusts up to 90 km/h along exposed coasts until Friday evening.'],
  mountains: ['Avalanche danger level 3 (considerable) above 2000 m.', 'Fog reduces visibility on passes.'],
  south: ['Heat advisory: afternoon temperatures up to 36°C; stay hydrated.'],
};

function alertsFor(region) {
  const alerts = ALERTS[region.toLowerCase()] ?? [];
  return alerts.length === 0
    ? `No active weather alerts for ${region}.`
    : `Active alerts for ${region}:\n${alerts.map((alert) => `- ${alert}`).join('\n')}`;
}

function createWeatherServer() {
  const server = new McpServer({ name: 'weather-demo', version: '1.0.0' });
  server.registerTool(
    'get_forecast',
    {
      title: 'Get forecast',
      description: 'Three-day weather forecast for a city.',
      inputSchema: { city: z.string().min(1).describe('City name, e.g. "Lisbon"') },
      annotations: { readOnlyHint: true },
    },
    ({ city }) => ({ content: [{ type: 'text', text: forecastFor(city) }] }),
  );
  server.registerTool(
    'get_alerts',
    {
      title: 'Get alerts',
      description: 'Active weather alerts for a region (try "coast", "mountains" or "south").',
      inputSchema: { region: z.string().min(1).describe('Region name') },
      annotations: { readOnlyHint: true },
    },
    ({ region }) => ({ content: [{ type: 'text', text: alertsFor(region) }] }),
  );
  server.registerPrompt(
    'plan_trip',
    {
      title: 'Plan a trip',
      description: 'Plan a trip around the weather at the destination.',
      argsSchema: {
        city: z.string().describe('Destination city'),
        days: z.string().optional().describe('Length of the trip in days'),
      },
    },
    ({ city, days }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text:
              `Plan a ${days ?? '3'}-day trip to ${city}. Check the forecast with the get_forecast tool ` +
              'and any alerts for the region with get_alerts, then suggest indoor plans for bad-weather days.',
          },
        },
      ],
    }),
  );
  return server;
}

await serveMcp({ name: 'weather', createServer: createWeatherServer, defaultPort: 9101 });
