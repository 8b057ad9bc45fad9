// A tiny React app for the agent-tools e2e test: a controlled input and a button. Bundled with
// esbuild at test time (react-app.gen.js, not committed).
import React, { useState } from 'react';
import { createRoot } from 'react-dom/client';

function App() {
  const [name, setName] = useState('');
  const [clicks, setClicks] = useState(0);
  return (
    <form onSubmit={(e) => e.preventDefault()}>
      <label>
        Name <input id="name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button id="save" type="button" onClick={() => setClicks((n) => n + 1)}>
        Save
      </button>
      <p id="echo">{`Hello ${name}`}</p>
      <p id="clicks">{`Clicked ${clicks}`}</p>
    </form>
  );
}

createRoot(document.getElementById('app')).render(<App />);
