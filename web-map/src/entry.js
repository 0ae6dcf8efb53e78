// The bundle's entry: `/?dossier=<id>` renders an enterprise's printable
// dossier (一企一档, dossier.js), `/?incident=<id>` an incident's printable
// brief (应急指挥简报, incident-brief.js; `draft` for an assessment that is
// not stored); anything else is the map (main.js).
const params = new URLSearchParams(location.search);
const dossier = params.get('dossier');
const incident = params.get('incident');
if (dossier) {
  import('./dossier.js').then((m) => m.renderDossierPage(dossier));
} else if (incident) {
  import('./incident-brief.js').then((m) => m.renderBriefPage(incident));
} else {
  import('./main.js');
}
