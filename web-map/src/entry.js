// The bundle's entry: `/?dossier=<id>` renders an enterprise's printable
// dossier (一企一档, dossier.js); anything else is the map (main.js).
const dossier = new URLSearchParams(location.search).get('dossier');
if (dossier) {
  import('./dossier.js').then((m) => m.renderDossierPage(dossier));
} else {
  import('./main.js');
}
